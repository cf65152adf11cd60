#include "jouleperf/sim/fidelity.hpp"

#include <fmt/format.h>

#include "jouleperf/hardware/registry.hpp"
#include "jouleperf/sim/serving_tables.hpp"
#include "jouleperf/sim/stack_json.hpp"

namespace jouleperf::sim {

Result<ServingInputs> load_serving_inputs(const ServingOptions& f) {
  if (f.measurements.empty()) return make_error(Errc::kInvalidArgument, "--measurements is required");
  hardware::HardwareRegistry registry;
  for (const auto& p : f.profiles)
    if (auto st = registry.load_file(p); !st) return st.error();
  ServingInputs in;
  std::optional<nlohmann::json> power;
  if (!f.stack_file.empty()) {
    auto file = load_stack_file(f.stack_file);
    if (!file) return make_error(file.error().code, "--stack-file: " + file.error().message);
    in.stack = file->stack;
    power = file->power;
  } else {
    auto named = find_stack(f.stack);
    if (!named) return make_error(Errc::kInvalidArgument, "--stack: " + named.error().message);
    in.stack = *named;
  }
  if (in.stack.device != hardware::DeviceKind::kGpu)
    return make_error(Errc::kInvalidArgument,
                      fmt::format("stack '{}' runs on CPUs; the measurements are of GPUs", in.stack.name));
  in.power = default_power_model(hardware::DeviceKind::kGpu);
  if (power) {
    auto m = power_from_json(*power, in.power, f.stack_file);
    if (!m) return make_error(m.error().code, "--stack-file: " + m.error().message);
    in.power = *m;
  }
  auto rows = load_serving_measurements(f.measurements);
  if (!rows) return rows.error();
  for (const auto& r : *rows)
    if (!r.mean_input_tokens) ++in.assumed_rows;
  auto cases = serving_cases(*rows, registry, in.stack, in.power, f.assume_input_tokens, f.measurements);
  if (!cases) return cases.error();
  for (const auto& c : *cases)
    if (c.measured.num_gpus > c.config.hardware.max_tp)
      return make_error(
          Errc::kInvalidArgument,
          fmt::format("{}:{}: field 'num_gpus': {} GPUs; '{}' allows tensor parallelism up to {}", f.measurements,
                      c.measured.line, c.measured.num_gpus, c.config.hardware.name, c.config.hardware.max_tp));
  in.cases = std::move(*cases);
  return in;
}

Result<FidelityCheck> check_fidelity(const ServingOptions& f) {
  auto in = load_serving_inputs(f);
  if (!in) return in.error();
  auto rows = compare_serving(in->cases, in->stack, in->power, f.measurements);
  if (!rows) return rows.error();
  const auto errors = summarize(*rows);
  const std::string what =
      fmt::format("stack '{}'{}", in->stack.name, f.stack_file.empty() ? "" : " from " + f.stack_file);
  FidelityCheck out;
  out.rows = serving_table(*rows, "fidelity", "Simulated (" + what + ") against measured");
  out.errors = serving_error_table(errors, "fidelity_errors", "Absolute percentage errors");
  if (in->assumed_rows > 0)
    out.assumption = fmt::format("{} of {} rows carry no prompt length: assumed {:g} tokens (--assume-input-tokens)",
                                 in->assumed_rows, in->cases.size(), f.assume_input_tokens);
  out.document = {
      {"measurements", f.measurements},
      {"stack", in->stack.name},
      {"stack_file", f.stack_file},
      {"assumed_input_tokens", in->assumed_rows > 0 ? nlohmann::json(f.assume_input_tokens) : nlohmann::json()},
      {"assumed_rows", in->assumed_rows},
      {"rows", table::to_json(out.rows)},
      {"errors", table::to_json(out.errors)},
      {"simulated", true}};
  return out;
}

table::Document fidelity_document(const FidelityCheck& check) {
  table::Document doc;
  doc.tables = {check.rows, check.errors};
  if (!check.assumption.empty()) doc.footer.push_back(check.assumption);
  doc.footer.push_back("SIMULATED figures (steady state: docs/simulator.md) against the file's measurements.");
  doc.json = check.document;
  return doc;
}

}  // namespace jouleperf::sim
