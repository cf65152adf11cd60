#include "jouleperf/report/tables.hpp"

#include <fmt/format.h>

#include <optional>

#include "jouleperf/report/node_agreement.hpp"
#include "jouleperf/report/serving_tables.hpp"
#include "json_fields.hpp"
#include "provenance.hpp"

namespace jouleperf::report {

namespace {

using detail::Fields;

Value num(double v) { return Value{v}; }
Value num(std::uint64_t v) { return Value{static_cast<std::int64_t>(v)}; }
Value opt(const std::optional<double>& v) { return v ? Value{*v} : Value{}; }
Value times(const std::optional<double>& v, double k) { return v ? Value{*v * k} : Value{}; }

// Mean of an optional per-repetition figure over the repetitions that have it.
std::optional<double> mean_of(const study::CellResult& c, std::optional<double> study::Repetition::*field) {
  double sum = 0.0;
  std::size_t n = 0;
  for (const auto& r : c.reps) {
    if (r.*field) {
      sum += *(r.*field);
      ++n;
    }
  }
  if (n == 0) return std::nullopt;
  return sum / static_cast<double>(n);
}

std::optional<double> mean_plain(const study::CellResult& c, double study::Repetition::*field) {
  if (c.reps.empty()) return std::nullopt;
  double sum = 0.0;
  for (const auto& r : c.reps) sum += r.*field;
  return sum / static_cast<double>(c.reps.size());
}

std::string where(const study::Artifact& a) { return "artifact " + a.kind + "/" + a.name; }

}  // namespace

Table cells_table(const ReportData& data) {
  Table t;
  t.name = "cells";
  t.title = "Cells: energy of one batch at input length I, output length O and batch size B";
  t.columns = {
      {"config", "configuration name"},
      {"engine", "llamacpp | sim | openai"},
      {"model", "model file, architecture or served name"},
      {"weight_type", "weight precision"},
      {"strategy", "decoding strategy"},
      {"batching", "static | continuous"},
      {"input_tokens", "I, tokens per prompt"},
      {"output_tokens", "O, generated tokens per sequence"},
      {"batch", "B, sequences per batch"},
      {"status", "done | skipped"},
      {"reason", "why a cell was skipped"},
      {"repetitions", "measured batches"},
      {"energy_per_batch_j", "mean energy of one batch, J (idle included)"},
      {"energy_per_batch_sd_j", "sample standard deviation over repetitions, J"},
      {"energy_per_request_j", "mean batch energy / B, J"},
      {"energy_per_output_token_mj", "mean batch energy / (B * O), mJ"},
      {"prefill_energy_j", "mean prefill-phase energy, J"},
      {"decode_energy_j", "mean decode-phase energy, J"},
      {"above_idle_j", "mean energy above the idle baseline, J"},
      {"uncertainty_j", "mean sensor bound per batch, J"},
      {"duration_s", "mean batch duration, s"},
      {"ttft_s", "mean time to first token, s"},
      {"output_tokens_per_s", "B * O / mean duration"},
      {"idle_power_w", "idle baseline, W"},
      {"energy_source", "counter | power-integral | cpu-time-model | simulated"},
      {"sensor", "sensor named in the cell's conditions"},
      {"estimated", "from a model, not a sensor"},
      {"simulated", "from the simulator: nothing was run"},
      {"below_resolution", "a repetition was shorter than the sensor's update interval"},
  };
  for (const auto& c : data.cells) {
    const study::Config* cfg = data.config(c.key.config);
    const bool done = c.status == study::CellStatus::kDone && !c.reps.empty();
    std::vector<Value> row = {
        c.key.config,
        cfg ? Value{cfg->engine} : Value{},
        cfg ? Value{cfg->model} : Value{},
        cfg && !cfg->weight_type.empty() ? Value{cfg->weight_type} : Value{},
        cfg ? Value{cfg->strategy} : Value{},
        cfg ? Value{cfg->batching} : Value{},
        num(c.key.input_tokens),
        num(c.key.output_tokens),
        num(c.key.batch),
        std::string(study::status_name(c.status)),
        c.reason.empty() ? Value{} : Value{c.reason},
        num(static_cast<std::uint64_t>(c.reps.size())),
    };
    if (done) {
      row.push_back(num(c.energy_per_batch_j().mean));
      row.push_back(num(c.energy_per_batch_j().stddev));
      row.push_back(num(c.energy_per_request_j().mean));
      row.push_back(num(c.energy_per_output_token_j().mean * 1e3));
      row.push_back(opt(mean_of(c, &study::Repetition::prefill_energy_j)));
      row.push_back(opt(mean_of(c, &study::Repetition::decode_energy_j)));
      row.push_back(opt(mean_of(c, &study::Repetition::above_idle_j)));
      row.push_back(num(c.mean_uncertainty_j()));
      row.push_back(num(c.duration_s().mean));
      row.push_back(opt(mean_plain(c, &study::Repetition::ttft_mean_s)));
      row.push_back(num(c.output_tokens_per_s()));
    } else {
      row.resize(row.size() + 11);
    }
    row.push_back(opt(c.idle_power_w));
    row.push_back(c.energy_source.empty() ? Value{} : Value{c.energy_source});
    const std::string sensor = detail::sensor_of(c.conditions);
    row.push_back(sensor.empty() ? Value{} : Value{sensor});
    row.push_back(c.estimated);
    row.push_back(c.simulated);
    row.push_back(c.below_resolution);
    t.rows.push_back(std::move(row));
  }
  return t;
}

Result<Table> estimates_table(const ReportData& data) {
  Table t;
  t.name = "estimates";
  t.title = "Workload estimates (Table 4): binned estimate, FLOPs-ideal baseline, savings";
  t.columns = {
      {"workload", "workload name"},
      {"config", "configuration"},
      {"requests", "requests in the workload"},
      {"energy_j", "paper estimate: sum over bins of N/B * E_batch, J"},
      {"energy_lo_j", "lower end of its interval, J"},
      {"energy_hi_j", "upper end of its interval, J"},
      {"corrected_energy_j", "estimate with the real lengths inside each bin, J"},
      {"ideal_energy_j", "TDP / peak FLOP/s * workload FLOPs, J"},
      {"above_ideal_pct", "100 * (energy / ideal - 1)"},
      {"saving_pct", "100 * (1 - energy / baseline's energy)"},
      {"saving_lo_pct", "95 % interval of the saving from paired repetitions (rep-major sweeps), low end"},
      {"saving_hi_pct", "the same, high end"},
      {"energy_wh", "energy_j in Wh"},
      {"per_request_j", "energy per request, J"},
      {"per_output_token_mj", "energy per output token, mJ"},
      {"gco2e", "grams CO2e at the stated carbon intensity and PUE"},
      {"baseline", "the config savings are measured against"},
      {"energy_source", "where the per-batch energies came from"},
      {"estimated", "from a model, not a sensor"},
      {"simulated", "from the simulator"},
  };
  for (const auto* a : data.of_kind("estimate")) {
    Fields top(a->body, where(*a));
    const std::optional<std::string> workload = top.text("workload");
    const Value requests = top.number_value("requests");
    const Value baseline = top.text_value("baseline");
    const nlohmann::json* configs = top.array("configs");
    if (auto st = top.status(); !st) return st.error();
    if (configs == nullptr) continue;
    for (std::size_t i = 0; i < configs->size(); ++i) {
      Fields f((*configs)[i], where(*a) + ", configs[" + std::to_string(i) + "]");
      std::vector<Value> row = {
          workload ? Value{*workload} : Value{a->name},
          f.text_value("config"),
          requests,
          f.number_value("energy_j"),
          f.number_value("energy_lo_j"),
          f.number_value("energy_hi_j"),
          f.number_value("corrected_energy_j"),
          f.number_value("ideal_energy_j"),
          f.number_value("above_ideal_pct"),
          f.number_value("saving_pct"),
          f.number_value("saving_lo_pct"),
          f.number_value("saving_hi_pct"),
          f.number_value("energy_wh"),
          f.number_value("per_request_j"),
          times(f.number("per_output_token_j"), 1e3),
          f.number_value("gco2e"),
          baseline,
          f.text_value("energy_source"),
          f.bool_value("estimated"),
          f.bool_value("simulated"),
      };
      if (auto st = f.status(); !st) return st.error();
      t.rows.push_back(std::move(row));
    }
  }
  return t;
}

Result<Table> replays_table(const ReportData& data) {
  Table t;
  t.name = "replays";
  t.title = "Online replays: serving a request stream, measured";
  t.columns = {
      {"replay", "artifact name"},
      {"config", "configuration"},
      {"batching", "static | continuous"},
      {"max_batch", "largest batch"},
      {"arrivals", "arrival process"},
      {"requests", "requests sent"},
      {"completed", "requests completed"},
      {"duration_s", "wall time of the replay, s"},
      {"energy_j", "total energy, J"},
      {"above_idle_j", "energy above idle, J"},
      {"per_request_j", "energy per completed request, J"},
      {"per_output_token_mj", "energy per output token, mJ"},
      {"ttft_p50_s", "median time to first token, s"},
      {"ttft_p99_s", "99th percentile time to first token, s"},
      {"e2e_p50_s", "median end-to-end latency, s"},
      {"e2e_p99_s", "99th percentile end-to-end latency, s"},
      {"goodput_rps", "requests per second meeting the SLO"},
      {"slo_attainment", "share of requests meeting the SLO, 0..1"},
      {"offline_per_request_j", "the same requests batched offline: energy per request, J"},
      {"energy_source", "where the energy came from"},
      {"estimated", "from a model, not a sensor"},
      {"simulated", "from the simulator"},
  };
  for (const auto* a : data.of_kind("replay")) {
    Fields f(a->body, where(*a));
    std::vector<Value> row = {
        a->name,
        f.text_value("config"),
        f.text_value("batching"),
        f.number_value("max_batch"),
        f.text_value("arrivals"),
        f.number_value("requests"),
        f.number_value("completed"),
        f.number_value("duration_s"),
        f.number_value("energy_j"),
        f.number_value("above_idle_j"),
        f.number_value("per_request_j"),
        times(f.number("per_output_token_j"), 1e3),
        f.number_value("latency_s/ttft/p50"),
        f.number_value("latency_s/ttft/p99"),
        f.number_value("latency_s/e2e/p50"),
        f.number_value("latency_s/e2e/p99"),
        f.number_value("goodput_rps"),
        f.number_value("slo_attainment"),
        f.number_value("offline/per_request_j"),
        f.text_value("energy_source"),
        f.bool_value("estimated"),
        f.bool_value("simulated"),
    };
    if (auto st = f.status(); !st) return st.error();
    t.rows.push_back(std::move(row));
  }
  return t;
}

// Every request of the replays that stored their per-request records (a replay's
// `per_request`: times from its start), one row each.
Result<Table> replay_requests_table(const ReportData& data) {
  Table t;
  t.name = "replay_requests";
  t.title = "Online replays: every request (times from the replay's start)";
  t.columns = {
      {"replay", "artifact name"},
      {"request", "index in the schedule"},
      {"scheduled_s", "when it was due, s"},
      {"send_s", "when it was sent, s"},
      {"ttft_s", "send to first token, s"},
      {"e2e_s", "send to its end, s"},
      {"output_tokens", "tokens generated"},
      {"ok", "served without error"},
      {"error", "why it failed"},
      {"input_tokens", "prompt tokens asked"},
      {"energy_j", "its share of the run's energy, J (docs/serving.md: energy per request)"},
      {"prefill_j", "of it, for its prompt, J"},
      {"decode_j", "of it, for its generated tokens, J"},
  };
  for (const auto* a : data.of_kind("replay")) {
    const auto it = a->body.find("per_request");
    if (it == a->body.end() || !it->is_array()) continue;
    for (std::size_t i = 0; i < it->size(); ++i) {
      Fields f((*it)[i], where(*a) + ", per_request[" + std::to_string(i) + "]");
      std::vector<Value> row = {a->name,
                                static_cast<double>(i),
                                f.number_value("scheduled_s"),
                                f.number_value("send_s"),
                                f.number_value("ttft_s"),
                                f.number_value("e2e_s"),
                                f.number_value("output_tokens"),
                                f.bool_value("ok"),
                                f.text_value("error"),
                                f.number_value("input_tokens_asked"),
                                f.number_value("energy_j"),
                                f.number_value("prefill_j"),
                                f.number_value("decode_j")};
      if (auto st = f.status(); !st) return st.error();
      t.rows.push_back(std::move(row));
    }
  }
  return t;
}

Result<Table> validations_table(const ReportData& data) {
  Table t;
  t.name = "validations";
  t.title = "Validation: the binned estimate against a measured run of the same requests";
  t.columns = {
      {"validation", "artifact name"},
      {"config", "configuration"},
      {"workload", "workload"},
      {"requests", "requests run"},
      {"batch", "batch size"},
      {"repetitions", "measured passes over the requests"},
      {"measured_energy_j", "measured energy, J (mean of the passes)"},
      {"measured_ci95_j", "95 % interval half-width of that mean, J"},
      {"measured_uncertainty_j", "its sensor bound, J"},
      {"paper_estimate_j", "binned (ceiling) estimate, J"},
      {"paper_error_pct", "100 * (estimate / measured - 1)"},
      {"per_request_estimate_j", "each request priced alone at its real lengths, J"},
      {"per_request_error_pct", "100 * (per-request / measured - 1)"},
      {"corrected_estimate_j", "real lengths, batches as they run (until their longest request ends), J"},
      {"corrected_error_pct", "100 * (corrected / measured - 1)"},
      {"reference_drift_pct", "the cells' own work measured again now against the sweep, %: the machine's drift"},
      {"corrected_error_drift_adjusted_pct", "corrected error with the estimate scaled by that drift, %"},
      {"energy_source", "where the energy came from"},
      {"estimated", "from a model, not a sensor"},
  };
  for (const auto* a : data.of_kind("validation")) {
    Fields f(a->body, where(*a));
    std::vector<Value> row = {
        a->name,
        f.text_value("config"),
        f.text_value("workload"),
        f.number_value("requests"),
        f.number_value("batch"),
        f.number_value("repetitions"),
        f.number_value("measured_energy_j"),
        f.number_value("measured_ci95_j"),
        f.number_value("measured_uncertainty_j"),
        f.number_value("paper_estimate_j"),
        f.number_value("paper_error_pct"),
        f.number_value("per_request_estimate_j"),
        f.number_value("per_request_error_pct"),
        f.number_value("corrected_estimate_j"),
        f.number_value("corrected_error_pct"),
        f.number_value("reference_drift_pct"),
        f.number_value("corrected_error_drift_adjusted_pct"),
        f.text_value("energy_source"),
        f.bool_value("estimated"),
    };
    if (auto st = f.status(); !st) return st.error();
    t.rows.push_back(std::move(row));
  }
  return t;
}

namespace {

// A table stored with to_json (an array of objects keyed by column name) read back with
// `columns`: null or absent is an empty cell; numbers, strings and booleans as they are.
Result<Table> stored_table(const nlohmann::json* rows, const std::string& where, std::string name, std::string title,
                           std::vector<Column> columns) {
  Table t;
  t.name = std::move(name);
  t.title = std::move(title);
  t.columns = std::move(columns);
  if (rows == nullptr) return t;
  for (std::size_t k = 0; k < rows->size(); ++k) {
    const auto& r = (*rows)[k];
    if (!r.is_object())
      return make_error(Errc::kParse, fmt::format("{}, row {}: expected an object, got {}", where, k, r.type_name()));
    std::vector<Value> row;
    for (const auto& c : t.columns) {
      const auto it = r.find(c.name);
      if (it == r.end() || it->is_null()) {
        row.emplace_back();
      } else if (it->is_number_integer()) {
        row.emplace_back(it->get<std::int64_t>());
      } else if (it->is_number()) {
        row.emplace_back(it->get<double>());
      } else if (it->is_string()) {
        row.emplace_back(it->get<std::string>());
      } else if (it->is_boolean()) {
        row.emplace_back(it->get<bool>());
      } else {
        return make_error(Errc::kParse,
                          fmt::format("{}, row {}, field '{}': expected a number, text or boolean, got {}", where, k,
                                      c.name, it->type_name()));
      }
    }
    t.rows.push_back(std::move(row));
  }
  return t;
}

}  // namespace

Result<std::vector<Table>> fidelity_tables(const ReportData& data) {
  std::vector<Table> out;
  for (const auto* a : data.of_kind("fidelity")) {
    Fields f(a->body, where(*a));
    const auto file = f.text("measurements").value_or(a->name);
    const auto stack = f.text("stack").value_or("?");
    const auto* rows = f.array("rows");
    const auto* errors = f.array("errors");
    if (auto st = f.status(); !st) return st.error();
    auto t = stored_table(rows, where(*a) + ", rows", "fidelity",
                          fmt::format("Fidelity (SIMULATED against measured): stack '{}' against {}", stack, file),
                          serving_columns());
    if (!t) return t.error();
    auto e =
        stored_table(errors, where(*a) + ", errors", "fidelity_errors",
                     fmt::format("Fidelity: absolute percentage errors against {}", file), serving_error_columns());
    if (!e) return e.error();
    out.push_back(std::move(*e));
    out.push_back(std::move(*t));
  }
  return out;
}

Result<std::vector<Table>> report_tables(const ReportData& data) {
  std::vector<Table> out;
  out.push_back(cells_table(data));
  for (auto* build : {&estimates_table, &replays_table, &validations_table}) {
    auto t = build(data);
    if (!t) return t.error();
    out.push_back(std::move(*t));
  }
  auto requests = replay_requests_table(data);  // only where a replay stored its requests
  if (!requests) return requests.error();
  if (!requests->rows.empty()) out.push_back(std::move(*requests));
  auto fidelity = fidelity_tables(data);
  if (!fidelity) return fidelity.error();
  for (auto& t : *fidelity) out.push_back(std::move(t));
  const auto nodes = node_effects(data);  // only where a config was measured on two nodes or more
  if (!nodes.empty()) out.push_back(nodes_table(nodes));
  return out;
}

}  // namespace jouleperf::report
