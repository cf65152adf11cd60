#include "jouleperf/study/documents.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "jouleperf/estimate/batch_composition.hpp"

namespace jouleperf::study {

namespace {

using table::count_value;
using table::optional_value;
using table::Table;
using table::Value;

Value json_number(const nlohmann::json& j, const char* key) {
  Value out;
  const auto it = j.find(key);
  if (it != j.end() && it->is_number()) out = it->get<double>();
  return out;
}

Value json_string(const nlohmann::json& j, const char* key) {
  Value out;
  const auto it = j.find(key);
  if (it != j.end() && it->is_string()) out = it->get<std::string>();
  return out;
}

void estimate_rows(Table& t, const TitledEstimate& te) {
  for (const auto& c : te.estimate.configs) {
    const double k = 1000.0 / std::max<double>(1.0, static_cast<double>(c.estimate.requests));
    Value corrected, ideal, above;
    if (c.estimate.corrected) corrected = c.estimate.corrected->value_j / 3600.0 * k;
    if (c.ideal) ideal = c.ideal->energy_j / 3600.0 * k;
    if (c.ideal && c.ideal->energy_j > 0) above = c.estimate.paper.value_j / c.ideal->energy_j;
    t.rows.push_back({te.title, c.estimate.config, c.per_1000_requests_wh, corrected, ideal, above,
                      optional_value(c.saving_pct), optional_value(c.saving_lo_pct), optional_value(c.saving_hi_pct),
                      c.per_output_token_j});
  }
}

Table estimates_table(const StudyRunResult& r) {
  Table t{"estimates",
          "Workload estimates",
          {{"workload", "the workload (and how it was scaled or simulated)"},
           {"config", ""},
           {"wh_per_1k_requests", "the paper's estimate, Wh per 1000 requests"},
           {"corrected_wh_per_1k_requests", "corrected on the real lengths"},
           {"ideal_wh_per_1k_requests", "the FLOPs ideal"},
           {"x_ideal", "the estimate over the ideal"},
           {"saving_pct", "against the baseline"},
           {"saving_lo_pct", "95 % paired interval, low"},
           {"saving_hi_pct", "95 % paired interval, high"},
           {"j_per_output_token", ""}},
          {}};
  for (const auto& te : r.estimates) estimate_rows(t, te);
  for (const auto& te : r.simulated) estimate_rows(t, te);
  return t;
}

Table validations_table(const StudyRunResult& r) {
  Table t{"validations",
          "Validation (real-length requests run and measured)",
          {{"config", ""},
           {"workload", ""},
           {"requests", ""},
           {"measured_energy_j", "the measured run"},
           {"paper_error_pct", "the paper's estimate against it"},
           {"per_request_error_pct", ""},
           {"corrected_error_pct", ""},
           {"reference_drift_pct", "the machine's drift since the sweep"},
           {"below_resolution_windows", "windows below the sensor's resolution"},
           {"measured_windows", ""}},
          {}};
  for (const auto& v : r.validations) {
    Value per_request = json_number(v, "per_request_error_pct");
    if (std::holds_alternative<std::monostate>(per_request)) per_request = json_number(v, "corrected_error_pct");
    t.rows.push_back({json_string(v, "config"), json_string(v, "workload"), json_number(v, "requests"),
                      json_number(v, "measured_energy_j"), json_number(v, "paper_error_pct"), per_request,
                      json_number(v, "corrected_error_pct"), json_number(v, "reference_drift_pct"),
                      count_value(v.value("below_resolution_windows", std::uint64_t{0})),
                      count_value(v.value("measured_windows", std::uint64_t{0}))});
  }
  return t;
}

nlohmann::json estimates_json(const std::vector<TitledEstimate>& es) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& e : es) out.push_back({{"title", e.title}, {"estimate", estimate::to_json(e.estimate)}});
  return out;
}

nlohmann::json summary_json(const SweepSummary& s) {
  nlohmann::json failed = nlohmann::json::array(), wide = nlohmann::json::array();
  for (const auto& k : s.failed) failed.push_back(to_string(k));
  for (const auto& k : s.ci_not_met) wide.push_back(to_string(k));
  return {{"total", s.total},     {"resumed", s.resumed}, {"retried", s.retried}, {"measured", s.measured},
          {"skipped", s.skipped}, {"failed", failed},     {"ci_not_met", wide},   {"elapsed_s", s.elapsed_s}};
}

}  // namespace

table::Document study_document(const StudyRunResult& r, const std::string& report_path) {
  table::Document d;
  d.header = {"== jouleperf study: " + r.name + " ==", r.sensor_note, r.scale_note};
  d.tables.push_back(estimates_table(r));
  if (!r.validations.empty()) d.tables.push_back(validations_table(r));
  for (const auto* es : {&r.estimates, &r.simulated})
    for (const auto& e : *es)
      for (const auto& x : e.estimate.refused)
        d.footer.push_back(fmt::format("{}: refused {}: {}", e.title, x.config, x.message));
  if (r.finished_unix_s > r.started_unix_s)
    d.footer.push_back("study took " + format_duration(r.finished_unix_s - r.started_unix_s));
  d.footer.push_back("results in " + r.store_path);
  if (!report_path.empty()) d.footer.push_back("report: " + report_path);
  d.json = {{"study", r.name},
            {"sensor_note", r.sensor_note},
            {"scale_note", r.scale_note},
            {"store", r.store_path},
            {"report", report_path},
            {"started_unix_s", r.started_unix_s},
            {"finished_unix_s", r.finished_unix_s},
            {"sweep", summary_json(r.sweep)},
            {"estimates", estimates_json(r.estimates)},
            {"simulated", estimates_json(r.simulated)},
            {"validations", r.validations}};
  return d;
}

table::Table sweep_cells_schema() {
  return Table{"cells",
               "Cells",
               {{"config", ""},
                {"input_tokens", ""},
                {"output_tokens", ""},
                {"batch", ""},
                {"status", "done | skipped | failed"},
                {"repetitions", ""},
                {"energy_per_batch_j", "mean over repetitions"},
                {"energy_ci95_j", "half-width of the 95 % interval"},
                {"duration_s", "mean per batch"},
                {"energy_source", ""},
                {"estimated", "from a model, not a sensor"},
                {"simulated", ""},
                {"reason", "why it was skipped or failed"}},
               {}};
}

std::vector<Value> sweep_cell_row(const CellResult& c) {
  std::vector<Value> row = {c.key.config,
                            count_value(c.key.input_tokens),
                            count_value(c.key.output_tokens),
                            count_value(c.key.batch),
                            std::string(status_name(c.status)),
                            count_value(c.reps.size())};
  if (c.status == CellStatus::kDone && !c.reps.empty()) {
    const auto e = c.energy_per_batch_j();
    row.insert(row.end(), {e.mean, ci95_half_width(e), c.duration_s().mean});
  } else {
    row.insert(row.end(), {Value{}, Value{}, Value{}});
  }
  const auto text = [](const std::string& s) { return s.empty() ? Value{} : Value{s}; };
  row.insert(row.end(), {text(c.energy_source), c.estimated, c.simulated, text(c.reason)});
  return row;
}

std::vector<std::string> sweep_summary_lines(const SweepReport& r) {
  const auto& s = r.summary;
  std::vector<std::string> out = {
      fmt::format("sweep {}: {} cells ({} already stored, {} measured, {} skipped, {} FAILED) in {} -> {}", r.study,
                  s.total, s.resumed, s.measured, s.skipped, s.failed.size(), format_duration(s.elapsed_s), r.store)};
  if (!s.ci_not_met.empty()) {
    out.push_back(fmt::format("{} cell(s) reached --max-reps {} with a 95 % interval wider than {} % of the mean:",
                              s.ci_not_met.size(), r.max_reps, r.until_ci_pct.value_or(0.0)));
    for (const auto& k : s.ci_not_met) out.push_back("  " + to_string(k));
  }
  return out;
}

nlohmann::json sweep_json(const SweepReport& r, const table::Table& cells) {
  nlohmann::json j = summary_json(r.summary);
  j["study"] = r.study;
  j["store"] = r.store;
  nlohmann::json failed = nlohmann::json::array();
  for (std::size_t i = 0; i < r.summary.failed.size(); ++i)
    failed.push_back(
        {{"cell", to_string(r.summary.failed[i])}, {"reason", i < r.failed_reasons.size() ? r.failed_reasons[i] : ""}});
  j["failed"] = failed;
  j["cells"] = table::to_json(cells);
  return j;
}

std::vector<std::string> sweep_failure_lines(const SweepReport& r) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < r.summary.failed.size(); ++i) {
    const std::string reason = i < r.failed_reasons.size() ? r.failed_reasons[i] : "";
    out.push_back("FAILED " + to_string(r.summary.failed[i]) + (reason.empty() ? "" : ": " + reason));
  }
  if (!out.empty())
    out.push_back(fmt::format("{} cell(s) failed and were stored as failed; run the sweep again to retry them",
                              r.summary.failed.size()));
  return out;
}

SweepRowStream::SweepRowStream(table::Format format, std::function<void(std::string_view)> sink)
    : format_(format), sink_(std::move(sink)), table_(sweep_cells_schema()), stream_(format, table_, sink_) {}

void SweepRowStream::add(const CellResult& c) {
  if (format_ == table::Format::kJson)
    table_.rows.push_back(sweep_cell_row(c));
  else
    stream_.row(sweep_cell_row(c));
}

SweepRowStream::Tail SweepRowStream::finish(const SweepReport& r) {
  if (format_ == table::Format::kJson) {
    table::Document d;
    d.json = sweep_json(r, table_);
    sink_(table::render(d, format_));
    return {};
  }
  stream_.finish();
  return {sweep_summary_lines(r), format_ == table::Format::kConsole || format_ == table::Format::kMarkdown};
}

Result<MergeSummary> merge_and_count(const std::vector<std::string>& inputs, const std::string& output,
                                     const MergeOptions& options) {
  if (auto st = merge_stores(inputs, output, options); !st) return st.error();
  auto out = Store::open(output, StoreMode::kReadOnly);
  if (!out) return out.error();
  auto configs = out->configs();
  if (!configs) return configs.error();
  auto cells = out->cells();
  if (!cells) return cells.error();
  auto study = check_study_stores({output});
  if (!study) return study.error();
  return MergeSummary{inputs, output, configs->size(), cells->size(), std::move(*study)};
}

table::Document merge_document(const MergeSummary& m) {
  table::Document d;
  d.header = {
      fmt::format("merged {} store(s) into {}: {} configs, {} cells", m.inputs.size(), m.output, m.configs, m.cells)};
  Table t{"merged", "Stores merged", {{"store", ""}, {"role", "input | output"}}, {}};
  for (const auto& s : m.inputs) t.rows.push_back({s, std::string("input")});
  t.rows.push_back({m.output, std::string("output")});
  d.tables.push_back(std::move(t));
  d.json = {{"inputs", m.inputs}, {"output", m.output}, {"configs", m.configs}, {"cells", m.cells}};
  if (m.study) {
    const auto& c = *m.study;
    d.header.push_back(c.complete() ? fmt::format("study \"{}\" ({}): all {} shards, all {} cells", c.study_name,
                                                  c.study_hash, c.shards, c.grid_cells)
                                    : fmt::format("study \"{}\" ({}) is INCOMPLETE (merged with --allow-incomplete):",
                                                  c.study_name, c.study_hash));
    for (const auto& line : describe_missing(c)) d.header.push_back("  " + line);
    // Without the hosts and store paths of study_check_json: the same merge gives the same JSON anywhere.
    d.json["study"] = {{"study", c.study_name}, {"study_hash", c.study_hash}, {"shards", c.shards},
                       {"cells", c.grid_cells}, {"complete", c.complete()},   {"resubmit", c.indices_to_resubmit()}};
  }
  return d;
}

table::Document sim_validation_document(const SimValidationRun& r) {
  const auto& v = r.v;
  table::Document d;
  d.header = {"SIMULATED — cells and the full run both come from the simulator (no measurement noise)",
              fmt::format("{} on {}", r.config, r.hardware),
              fmt::format("workload: {} ({}), {} requests in {} bins ({} excluded past the last edges), batch order {}",
                          r.workload, r.trace, r.requests, r.bins, r.excluded, r.order),
              fmt::format("full run: {} requests in {} static batches ({} partial): {:.6g} J", v.requests, v.batches,
                          v.partial_batches, v.run_j)};
  Table t{"estimates", "Estimates against the full run", {{"estimate", ""}, {"energy_j", ""}, {"vs_run_pct", ""}}, {}};
  const std::string corrected = fmt::format("corrected ({} prompts)", estimate::batch_composition_name(v.composition));
  for (const auto& [what, j] : {std::pair<std::string, double>{"paper (ceiling bins, N/B)", v.paper_j},
                                {"per request (real lengths)", v.per_request_j},
                                {"composed, fractional N/B", v.fractional_j},
                                {corrected, v.corrected_j}})
    t.rows.push_back({what, j, v.error_pct(j)});
  d.tables.push_back(std::move(t));
  Table split{"error_split",
              "The paper's error, split (% of the run)",
              {{"part", ""}, {"pct", ""}},
              {{std::string("paper error"), v.error_pct(v.paper_j)},
               {std::string("ceilings"), v.ceilings_pct()},
               {std::string("batch composition"), v.composition_pct()},
               {std::string("partial batches"), v.partial_pct()},
               {std::string("rest"), v.rest_pct()}}};
  d.tables.push_back(std::move(split));
  if (v.estimate.composed_partial_scaled > 0)
    d.footer.push_back(
        fmt::format("{} partial batches below every batch size simulated: priced at k/B of a larger batch",
                    v.estimate.composed_partial_scaled));
  d.json = to_json(v);
  return d;
}

}  // namespace jouleperf::study
