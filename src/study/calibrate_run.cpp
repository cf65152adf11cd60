#include "jouleperf/study/calibrate_run.hpp"

#include <fmt/format.h>

#include "jouleperf/hardware/host_profile.hpp"
#include "jouleperf/hardware/profile_json.hpp"
#include "jouleperf/hardware/registry.hpp"
#include "jouleperf/sensor/cpu_model.hpp"
#include "jouleperf/sim/inputs.hpp"
#include "jouleperf/sim/stack_json.hpp"

namespace jouleperf::study {
namespace {

// "q8_0 (mixed)" -> "q8_0".
std::string first_word(const std::string& s) { return s.substr(0, s.find(' ')); }
struct Base {
  sim::SimConfig config;
  std::string description;  // "host-cpu (from /proc/cpuinfo, 1 thread) + llamacpp-cpu"
};

Result<Base> base_config(const StoreCalibrationOptions& a, const Config& cfg) {
  const bool sim_engine = cfg.engine == "sim";
  // Hardware.
  std::string hw_name = a.hardware;
  if (hw_name.empty() && sim_engine) hw_name = cfg.setting("hardware").value_or("h100-sxm");
  hardware::HardwareProfile hw;
  std::string hw_text;
  if (hw_name.empty()) {
    CpuModelOptions o;
    o.idle_w = a.cpu_idle_w;
    o.max_w = a.cpu_max_w;
    auto power = resolve_cpu_power_params(o);
    if (!power) return make_error(power.error().code, "CPU power model: " + power.error().message);
    hardware::HostProfileOptions ho;
    ho.threads = cfg.threads;
    ho.idle_w = power->idle_w;
    ho.max_w = power->max_w;
    ho.power_basis = power->basis;
    ho.bandwidth_per_thread_bps = a.bandwidth_per_thread_gbps * 1e9;
    auto p = hardware::read_host_cpu_profile(o.cpuinfo, "/proc/meminfo", ho);
    if (!p) return p.error();
    hw = *p;
    hw_text = fmt::format("host-cpu (/proc/cpuinfo, {} threads; {:.1f}..{:.1f} W from the CPU-time model)",
                          cfg.threads > 0 ? std::to_string(cfg.threads) : "all", power->idle_w, power->max_w);
  } else {
    hardware::HardwareRegistry registry;
    for (const auto& f : a.profiles)
      if (auto st = registry.load_file(f); !st) return st.error();
    auto p = registry.find(hw_name);
    if (!p) return make_error(Errc::kInvalidArgument, "--hardware: " + p.error().message);
    hw = *p;
    hw_text = hw.name;
  }
  // Stack.
  std::string stack_name = a.stack;
  if (stack_name.empty()) stack_name = sim_engine ? cfg.setting("stack").value_or("vllm") : "llamacpp-cpu";
  auto stack = sim::find_stack(stack_name);
  if (!stack) return make_error(Errc::kInvalidArgument, "--stack: " + stack.error().message);
  // Model and precision.
  const std::string model_name = a.model.empty() ? cfg.model : a.model;
  if (model_name.empty())
    return make_error(Errc::kInvalidArgument, fmt::format("config '{}' names no model: give --model", cfg.name));
  auto model = sim::resolve_model(model_name);
  if (!model) return make_error(model.error().code, "model: " + model.error().message);
  std::string precision_text = a.precision;
  if (precision_text.empty() && sim_engine) precision_text = cfg.setting("precision").value_or("");
  if (precision_text.empty()) precision_text = cfg.weight_type;
  if (precision_text.empty()) precision_text = first_word(model->weight_type);
  auto precision = sim::parse_weight_precision(precision_text);
  if (!precision) return make_error(Errc::kInvalidArgument, "precision: " + precision.error().message);

  Base out;
  out.config = sim::make_config(hw, *stack, *model);
  out.config.precision = *precision;
  if (auto st = sim::validate_config(out.config); !st) return st.error();
  out.description =
      fmt::format("{} + {}, model {} ({})", hw_text, stack->name, model_name, sim::weight_precision_name(*precision));
  return out;
}

nlohmann::json result_json(const StoreCalibrationOptions& a, const Config& cfg, const Base& base,
                           const sim::CalibrationResult& r, const std::string& profile_name,
                           const std::string& base_stack) {
  hardware::HardwareProfile p = r.config.hardware;
  p.name = profile_name;
  p.display_name = fmt::format("{} calibrated on {} config '{}'", base.config.hardware.display_name, a.store, cfg.name);
  p.aliases.clear();
  p.origin = "jouleperf calibrate";
  sim::SoftwareStack s = r.config.stack;
  s.name = profile_name + "-stack";
  s.description =
      fmt::format("{} fitted by jouleperf calibrate (efficiencies 1: the profile holds effective rates)", base_stack);
  nlohmann::json cells = nlohmann::json::array();
  for (const auto& c : r.cells)
    cells.push_back({{"input_tokens", c.measured.input_tokens},
                     {"output_tokens", c.measured.output_tokens},
                     {"batch", c.measured.batch},
                     {"measured_duration_s", c.measured.duration_s},
                     {"predicted_duration_s", c.predicted_duration_s},
                     {"measured_energy_j", c.measured.energy_j},
                     {"predicted_energy_j", c.predicted_energy_j},
                     {"held_out", c.held_out}});
  return {
      {"profiles", nlohmann::json::array({hardware::to_json(p)})},
      {"stack", sim::stack_to_json(s, base_stack)},
      {"power", sim::power_to_json(r.config.power)},
      {"calibration",
       {{"store", a.store},
        {"config", cfg.name},
        {"engine", cfg.engine},
        {"model", cfg.model},
        {"precision", sim::weight_precision_name(base.config.precision)},
        {"base", base.description},
        {"hold_out_every", a.hold_out_every},
        {"train_cells", r.train_cells},
        {"heldout_cells", r.heldout_cells},
        {"train_mape_energy_pct", r.train_mape_energy_pct},
        {"train_mape_latency_pct", r.train_mape_latency_pct},
        {"heldout_mape_energy_pct", r.heldout_mape_energy_pct},
        {"heldout_mape_latency_pct", r.heldout_mape_latency_pct},
        {"evaluations", r.evaluations},
        {"max_uncertainty_pct", a.max_uncertainty_pct ? nlohmann::json(*a.max_uncertainty_pct) : nlohmann::json()},
        {"cells", cells},
        {"usage", fmt::format("jouleperf simulate --profiles FILE --hardware {} --stack-file FILE --model {} "
                              "--precision {} ...",
                              profile_name, cfg.model, sim::weight_precision_name(base.config.precision))},
        {"note",
         "every prediction made with this profile is SIMULATED; the held-out MAPE says how far the fit was from the "
         "measured cells it did not see"}}},
  };
}

Result<const Config*> find_config(const std::vector<Config>& configs, const StoreCalibrationOptions& o) {
  std::string known;
  for (const auto& c : configs) {
    if (c.name == o.config) return &c;
    known += (known.empty() ? "" : ", ") + c.name;
  }
  return make_error(Errc::kInvalidArgument, fmt::format("{} has no config '{}' (configs: {})", o.store, o.config,
                                                        known.empty() ? "none" : known));
}

// The config's done cells within max_uncertainty_pct, their sources and the counts.
void gather_cells(const std::vector<CellResult>& all, const StoreCalibrationOptions& o, StoreCalibrationInputs& in) {
  for (const auto& c : all) {
    if (c.key.config != o.config || c.status != CellStatus::kDone || c.reps.empty()) continue;
    const double bound_pct = 100.0 * c.mean_uncertainty_j() / c.energy_per_batch_j().mean;
    if (o.max_uncertainty_pct && bound_pct > *o.max_uncertainty_pct) {
      ++in.left_out;
      continue;
    }
    if (bound_pct > 10.0) ++in.coarse;
    in.cells.push_back({static_cast<std::uint32_t>(c.key.input_tokens), static_cast<std::uint32_t>(c.key.output_tokens),
                        static_cast<std::uint32_t>(c.key.batch), c.duration_s().mean, c.energy_per_batch_j().mean,
                        to_string(c.key)});
    if (in.sources.find(c.energy_source) == std::string::npos)
      in.sources += (in.sources.empty() ? "" : ", ") + c.energy_source;
  }
}

std::string fitted_line(const StoreCalibration& c) {
  const auto& r = c.fit;
  const auto& hw = r.config.hardware;
  const auto& st = r.config.stack;
  const auto precision = c.inputs.base.precision;
  const auto peak = precision == sim::WeightPrecision::kFp32   ? hardware::Precision::kFp32
                    : precision == sim::WeightPrecision::kInt8 ? hardware::Precision::kInt8
                                                               : hardware::Precision::kBf16;
  return fmt::format(
      "fitted ({} evaluations): {} rate {:.3g} FLOP/s, bandwidth {:.3g} GB/s, host {:.3g} ms/step + {:.3g} ms/seq, "
      "idle {:.3g} W, full load {:.3g} W, active floor {:.2f}, decode attention efficiency {:.3g}, decode matmul "
      "efficiency {:.3g}",
      r.evaluations, sim::weight_precision_name(precision), hw.peak_flops.at(peak), hw.memory_bandwidth_bps / 1e9,
      st.host_s_per_step * 1e3, st.host_s_per_sequence * 1e3, hw.idle_w, hw.tdp_w, r.config.power.active_floor,
      st.decode_attention_efficiency, st.decode_matmul_efficiency);
}

std::vector<std::string> header(const StoreCalibration& c, const StoreCalibrationOptions& o) {
  const auto& in = c.inputs;
  std::vector<std::string> out{
      fmt::format("calibrate '{}' ({} engine, energy: {}): {} cells, {} to fit, {} held out (every {})", in.config.name,
                  in.config.engine, in.sources, in.cells.size(), c.fit.train_cells, c.fit.heldout_cells,
                  o.hold_out_every),
      fmt::format("base: {}", in.description)};
  if (in.left_out > 0)
    out.push_back(
        fmt::format("{} cells left out: their sensor bound is above {:g} % of their energy (--max-uncertainty)",
                    in.left_out, o.max_uncertainty_pct.value_or(0.0)));
  if (in.coarse > 0)
    out.push_back(
        fmt::format("note: {} of the {} cells have a sensor bound above 10 % of their energy: a prediction "
                    "cannot be checked to 10 % there (longer cells, or --max-uncertainty 10)",
                    in.coarse, in.cells.size()));
  return out;
}

table::Table cells_table(const sim::CalibrationResult& r) {
  table::Table t;
  t.name = "cells";
  t.title = "Measured against predicted batches";
  t.columns = {{"cell", "config, lengths and batch"},
               {"measured_s", "measured duration, s"},
               {"predicted_s", "SIMULATED duration, s"},
               {"duration_err_pct", "predicted / measured - 1, %"},
               {"measured_j", "measured energy per batch, J"},
               {"predicted_j", "SIMULATED energy per batch, J"},
               {"energy_err_pct", "predicted / measured - 1, %"},
               {"held_out", "not used by the fit"}};
  for (const auto& c : r.cells)
    t.rows.push_back({c.measured.label, c.measured.duration_s, c.predicted_duration_s,
                      100 * (c.predicted_duration_s / c.measured.duration_s - 1), c.measured.energy_j,
                      c.predicted_energy_j, 100 * (c.predicted_energy_j / c.measured.energy_j - 1), c.held_out});
  return t;
}

table::Table mape_table(const sim::CalibrationResult& r) {
  table::Table t;
  t.name = "mape";
  t.title = "Mean absolute percentage error";
  t.columns = {{"cells", "train: fitted on; held out: not seen by the fit"},
               {"count", "cells"},
               {"energy_pct", "energy MAPE, %"},
               {"latency_pct", "duration MAPE, %"}};
  t.rows.push_back({std::string("train"), static_cast<std::int64_t>(r.train_cells), r.train_mape_energy_pct,
                    r.train_mape_latency_pct});
  t.rows.push_back({std::string("held out"), static_cast<std::int64_t>(r.heldout_cells), r.heldout_mape_energy_pct,
                    r.heldout_mape_latency_pct});
  return t;
}

}  // namespace

Result<StoreCalibrationInputs> prepare_store_calibration(const StoreCalibrationOptions& o) {
  if (o.hold_out_every < 2) return make_error(Errc::kInvalidArgument, "--hold-out-every must be at least 2");
  auto store = Store::open(o.store, StoreMode::kReadOnly);
  if (!store) return store.error();
  auto configs = store->configs();
  if (!configs) return configs.error();
  auto cfg = find_config(*configs, o);
  if (!cfg) return cfg.error();
  auto all = store->cells();
  if (!all) return all.error();
  StoreCalibrationInputs in;
  in.config = **cfg;
  gather_cells(*all, o, in);
  if (in.cells.empty())
    return make_error(Errc::kNotFound,
                      fmt::format("{}: config '{}' has no measured (done) cells{}", o.store, o.config,
                                  in.left_out > 0 ? fmt::format(" within --max-uncertainty ({} left out)", in.left_out)
                                                  : std::string()));
  auto base = base_config(o, in.config);
  if (!base) return base.error();
  in.base = base->config;
  in.description = base->description;
  return in;
}

Result<StoreCalibration> run_store_calibration(const StoreCalibrationOptions& o, StoreCalibrationInputs inputs) {
  sim::CalibrationOptions co;
  co.hold_out_every = o.hold_out_every;
  co.max_evaluations = o.max_evaluations;
  co.random_starts = o.random_starts;
  auto r = sim::calibrate(inputs.base, inputs.cells, co);
  if (!r) return r.error();
  StoreCalibration c;
  c.inputs = std::move(inputs);
  c.fit = std::move(*r);
  c.profile_name =
      o.name.empty()
          ? hardware::normalize_profile_name(c.inputs.base.hardware.name + "-" + c.inputs.config.name + "-calibrated")
          : o.name;
  const Base base{c.inputs.base, c.inputs.description};
  c.document = result_json(o, c.inputs.config, base, c.fit, c.profile_name, c.inputs.base.stack.name);
  return c;
}

table::Document store_calibration_document(const StoreCalibration& c, const StoreCalibrationOptions& o,
                                           const std::string& saved) {
  table::Document doc;
  doc.header = header(c, o);
  doc.tables = {cells_table(c.fit), mape_table(c.fit)};
  doc.footer.push_back(fitted_line(c));
  if (!saved.empty())
    doc.footer.push_back(fmt::format("wrote {}: jouleperf simulate --profiles {} --hardware {} --stack-file {} ...",
                                     saved, saved, c.profile_name, saved));
  doc.footer.push_back("SIMULATED predictions; the held-out MAPE is the fit's error on cells it did not see.");
  doc.json = c.document;
  return doc;
}

}  // namespace jouleperf::study
