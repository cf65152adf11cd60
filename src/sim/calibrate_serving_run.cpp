#include "jouleperf/sim/calibrate_serving_run.hpp"

#include <fmt/format.h>

#include "jouleperf/sim/serving_tables.hpp"
#include "jouleperf/sim/stack_json.hpp"

namespace jouleperf::sim {
namespace {

// The figures as "name value [lo, hi]" joined.
std::string figures_text(const std::vector<FittedFigure>& f) {
  std::string out;
  for (const auto& x : f)
    out += fmt::format("{}{} {:.4g} [{:g}, {:g}]", out.empty() ? "" : ", ", x.name, x.value, x.lo, x.hi);
  return out;
}

nlohmann::json errors_json(const ServingErrors& e) {
  auto one = [](const ErrorSummary& s) -> nlohmann::json {
    if (s.rows == 0) return nullptr;
    return {{"rows", s.rows}, {"median_abs_pct", 100 * s.median_abs}, {"worst_abs_pct", 100 * s.worst_abs}};
  };
  return {{"j_per_output_token", one(e.j_per_token)},
          {"power_w", one(e.power)},
          {"median_itl", one(e.itl)},
          {"output_tokens_per_s", one(e.throughput)},
          {"j_per_request", one(e.j_per_request)}};
}

std::string calibration_note(const ServingCalibration& c, const ServingErrors& e) {
  return fmt::format(
      "fitted to {} ({} rows, prompt {}): {}; leave-one-out median |error| J/token {:.1f} %, power {:.1f} %, ITL "
      "{:.1f} %",
      c.measurements, c.inputs.cases.size(),
      c.inputs.assumed_rows > 0 ? fmt::format("{:g} tokens assumed", c.assume_input_tokens)
                                : std::string("from the file"),
      figures_text(c.fit.figures), 100 * e.j_per_token.median_abs, 100 * e.power.median_abs, 100 * e.itl.median_abs);
}

nlohmann::json calibration_json(const ServingCalibration& c) {
  const auto& r = c.fit;
  nlohmann::json figs = nlohmann::json::array();
  for (const auto& f : r.figures) figs.push_back({{"name", f.name}, {"value", f.value}, {"lo", f.lo}, {"hi", f.hi}});
  return {
      {"measurements", c.measurements},
      {"rows", c.inputs.cases.size()},
      {"assumed_input_tokens", c.inputs.assumed_rows > 0 ? nlohmann::json(c.assume_input_tokens) : nlohmann::json()},
      {"figures", figs},
      {"objective", r.objective},
      {"evaluations", r.evaluations},
      {"train_errors", errors_json(r.train_errors)},
      {"leave_one_out_errors", r.held.empty() ? nlohmann::json() : errors_json(r.held_errors)},
      {"train", table::to_json(serving_table(r.train, "train", "Fitted on every row"))},
      {"leave_one_out",
       table::to_json(serving_table(r.held, "leave_one_out", "Each row predicted by the fit on the others"))},
      {"usage", fmt::format("jouleperf simulate --stack-file FILE ... | jouleperf fidelity --measurements {} "
                            "--stack-file FILE",
                            c.measurements)},
      {"note", "every prediction made with this stack is SIMULATED"}};
}

nlohmann::json document_of(const ServingCalibration& c, const std::string& name) {
  const auto& e = c.fit.held.empty() ? c.fit.train_errors : c.fit.held_errors;
  SoftwareStack s = c.fit.stack;
  s.name = name;
  s.description = fmt::format("{} fitted by jouleperf calibrate to {}", c.inputs.stack.name, c.measurements);
  s.calibration = calibration_note(c, e);
  return {{"stack", stack_to_json(s, c.inputs.stack.name)},
          {"power", power_to_json(c.fit.power)},
          {"calibration", calibration_json(c)}};
}

}  // namespace

Result<ServingCalibration> calibrate_serving(ServingInputs inputs, const ServingOptions& serving,
                                             const ServingCalibrationOptions& o) {
  ServingFitOptions fo;
  fo.max_evaluations = o.evaluations;
  fo.leave_one_out = o.leave_one_out;
  auto r = fit_serving(inputs.cases, inputs.stack, inputs.power, serving.measurements, fo);
  if (!r) return r.error();
  ServingCalibration c;
  c.inputs = std::move(inputs);
  c.fit = std::move(*r);
  c.measurements = serving.measurements;
  c.assume_input_tokens = serving.assume_input_tokens;
  c.document = document_of(c, o.name.empty() ? c.inputs.stack.name + "-calibrated" : o.name);
  return c;
}

table::Document serving_calibration_document(const ServingCalibration& c, const std::string& saved) {
  table::Document doc;
  doc.header.push_back(fmt::format(
      "calibrate {} rows of {} from stack '{}'{}", c.inputs.cases.size(), c.measurements, c.inputs.stack.name,
      c.inputs.assumed_rows > 0 ? fmt::format("; {} rows without a prompt length: {:g} tokens assumed "
                                              "(--assume-input-tokens)",
                                              c.inputs.assumed_rows, c.assume_input_tokens)
                                : std::string()));
  doc.tables.push_back(serving_table(c.fit.train, "train", "Fitted on every row"));
  doc.tables.push_back(serving_error_table(c.fit.train_errors, "train_errors", "Training error"));
  if (!c.fit.held.empty()) {
    doc.tables.push_back(serving_table(c.fit.held, "leave_one_out", "Each row predicted by the fit on the others"));
    doc.tables.push_back(serving_error_table(c.fit.held_errors, "held_errors", "Leave-one-out error"));
  }
  doc.footer.push_back(fmt::format("fitted ({} evaluations): {}", c.fit.evaluations, figures_text(c.fit.figures)));
  if (!saved.empty())
    doc.footer.push_back(fmt::format("wrote {}: jouleperf simulate --stack-file {} ...", saved, saved));
  doc.footer.push_back("SIMULATED predictions; the leave-one-out error is the fit's error on rows it did not see.");
  doc.json = c.document;
  return doc;
}

}  // namespace jouleperf::sim
