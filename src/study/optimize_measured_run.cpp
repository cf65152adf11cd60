#include "jouleperf/study/optimize_measured_run.hpp"

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <limits>

#include "jouleperf/core/text.hpp"
#include "jouleperf/estimate/workload_report.hpp"
#include "jouleperf/hardware/host_profile.hpp"
#include "jouleperf/sensor/cpu_model.hpp"
#include "jouleperf/sim/inputs.hpp"
#include "jouleperf/sim/optimize_run.hpp"
#include "jouleperf/sim/stack_json.hpp"
#include "jouleperf/study/grid.hpp"
#include "jouleperf/study/main_job.hpp"
#include "jouleperf/workload/default_workloads.hpp"
#include "jouleperf/workload/length_scale.hpp"
#include "jouleperf/workload/loader.hpp"

namespace jouleperf::study {
namespace {

namespace fs = std::filesystem;

Result<MeasuredWorkload> measured_workload(const MeasuredOptimizeOptions& f) {
  if (!f.trace.empty() && !f.workload.empty())
    return make_error(Errc::kInvalidArgument, "give --trace or --workload, not both");
  auto in_edges = parse_size_list(f.input_edges, "--input-edges");
  if (!in_edges) return in_edges.error();
  auto out_edges = parse_size_list(f.output_edges, "--output-edges");
  if (!out_edges) return out_edges.error();
  MainJobScale scale;
  scale.input_edges = *in_edges;
  scale.output_edges = *out_edges;
  scale.input_divisor = f.scale_input;
  scale.output_divisor = f.scale_output;
  if (auto st = validate_scale(scale); !st)
    return make_error(Errc::kInvalidArgument,
                      "--input-edges/--output-edges with --scale-input/--scale-output: " + st.error().message);
  MeasuredWorkload out;
  if (f.trace.empty()) {
    const std::string name = f.workload.empty() ? "azure-conv-2023" : f.workload;
    auto w = workload::find_default_workload(name);
    if (!w) return make_error(Errc::kInvalidArgument, w.error().message);
    auto scaled = scale_default_workload(**w, scale);
    if (!scaled) return scaled.error();
    out.bins = std::move(scaled->bins);
    out.lengths = std::move(scaled->scaled);
    out.lengths_source = scaled->lengths_source;
    return out;
  }
  estimate::RequestLengths real;
  auto loaded = workload::load_trace(f.trace, workload::LoadOptions{}, [&](const workload::Request& r) {
    constexpr std::uint64_t kMax = std::numeric_limits<std::uint32_t>::max();
    real.inputs.push_back(static_cast<std::uint32_t>(std::min(r.input_tokens, kMax)));
    real.outputs.push_back(static_cast<std::uint32_t>(std::min(r.output_tokens, kMax)));
  });
  if (!loaded) return loaded.error();
  for (std::size_t k = 0; k < real.inputs.size(); ++k) {
    out.lengths.inputs.push_back(workload::scale_length_down(real.inputs[k], scale.input_divisor));
    out.lengths.outputs.push_back(workload::scale_length_down(real.outputs[k], scale.output_divisor));
  }
  workload::BinningOptions bo;
  bo.input_edges = scale.scaled_input_edges();
  bo.output_edges = scale.scaled_output_edges();
  bo.policy = workload::OutOfRange::kExclude;
  auto bins = estimate::bin_lengths(out.lengths, bo, fs::path(f.trace).stem().string(), f.trace);
  if (!bins) return bins.error();
  out.bins = std::move(*bins);
  out.lengths_source = fmt::format("{} ({} requests)", f.trace, real.inputs.size());
  return out;
}

Result<PlanDevice> plan_device(const MeasuredOptimizeOptions& f) {
  PlanDevice d;
  std::string hw_text;
  if (!f.hardware.empty()) {
    auto registry = sim::load_registry(f.profiles);
    if (!registry) return registry.error();
    auto p = registry->find(f.hardware);
    if (!p) return make_error(Errc::kInvalidArgument, "--hardware: " + p.error().message);
    d.fixed = *p;
    hw_text = fmt::format("{} (one profile for every thread count)", p->name);
  } else {
    CpuModelOptions o;
    o.idle_w = f.cpu_idle_w;
    o.max_w = f.cpu_max_w;
    auto power = resolve_cpu_power_params(o);
    if (!power) return make_error(power.error().code, "CPU power model: " + power.error().message);
    auto text = read_text_file(o.cpuinfo);
    if (!text) return text.error();
    auto cpu = hardware::parse_cpuinfo(*text, o.cpuinfo);
    if (!cpu) return cpu.error();
    d.cpu = *cpu;
    d.host.idle_w = power->idle_w;
    d.host.max_w = power->max_w;
    d.host.power_basis = power->basis;
    hw_text = fmt::format("host-cpu ({}, /proc/cpuinfo, at each candidate's thread count; {:.1f}..{:.1f} W)",
                          cpu->model_name, power->idle_w, power->max_w);
  }
  if (!f.stack_file.empty()) {
    auto file = sim::load_stack_file(f.stack_file);
    if (!file) return make_error(file.error().code, "--stack-file: " + file.error().message);
    d.stack = file->stack;
    if (file->power) {
      auto m = sim::power_from_json(*file->power, sim::default_power_model(hardware::DeviceKind::kCpu), f.stack_file);
      if (!m) return make_error(m.error().code, "--stack-file: " + m.error().message);
      d.power = *m;
    }
  } else {
    auto s = sim::find_stack("llamacpp-cpu");
    if (!s) return s.error();
    d.stack = *s;
  }
  d.description = fmt::format("{} + {}", hw_text, d.stack.name);
  return d;
}

void add_ratings(std::vector<estimate::ConfigInputs>& inputs, const PlanDevice& d) {
  for (auto& in : inputs) {
    Result<hardware::HardwareProfile> p =
        d.fixed ? Result<hardware::HardwareProfile>(*d.fixed) : hardware::host_cpu_profile(*d.cpu, [&] {
          auto o = d.host;
          o.threads = in.config.threads;
          return o;
        }());
    auto prec = estimate::precision_for_weight_type(in.config.weight_type);
    if (p && prec) {
      if (auto r = estimate::rating_from_profile(*p, *prec); r) {
        in.device = *r;
        in.ideal_note.clear();
      }
    }
  }
}

CandidateSpace candidate_space(const MeasuredOptimizeOptions& o) {
  CandidateSpace space;
  space.models = o.models;
  space.threads = o.cpu_threads;
  space.max_batch = o.max_batch.empty() ? std::vector<std::uint32_t>{1, 4, 8} : o.max_batch;
  space.batching = o.batching.empty() ? std::vector<std::string>{"static", "continuous"} : o.batching;
  return space;
}

double now_unix() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

nlohmann::json workload_json(const MeasuredOptimizeOptions& o, const MeasuredWorkload& w) {
  return {{"name", w.bins.name},
          {"trace", w.bins.trace},
          {"requests", w.bins.requests},
          {"excluded", w.bins.excluded},
          {"bins", w.bins.bins.size()},
          {"input_edges", w.bins.input_edges},
          {"output_edges", w.bins.output_edges},
          {"scale_input_divisor", o.scale_input},
          {"scale_output_divisor", o.scale_output},
          {"lengths_source", w.lengths_source}};
}

nlohmann::json outcome_json(const MeasuredOptimizeOptions& o, const MeasuredOptimizePlan& p,
                            const MeasuredOptimizeOutcome& out) {
  nlohmann::json candidates = nlohmann::json::array();
  for (const auto& c : p.plan.candidates) candidates.push_back(to_json(c));
  const auto& sw = out.sweep;
  return {{"mode", "measured"},
          {"engine", "llamacpp"},
          {"workload", workload_json(o, p.work)},
          {"device", p.plan.device},
          {"top_k", o.top_k},
          {"slo_e2e_s", o.slo_e2e_s > 0 ? nlohmann::json(o.slo_e2e_s) : nlohmann::json(nullptr)},
          {"sensor_note", out.sensor_note},
          {"estimated", out.estimated},
          {"sweep",
           {{"store", o.store},
            {"cells", sw.total},
            {"resumed", sw.resumed},
            {"measured", sw.measured},
            {"skipped", sw.skipped},
            {"elapsed_s", sw.elapsed_s},
            {"repetitions", o.reps},
            {"warmup", o.warmup}}},
          {"comparison", to_json(out.comparison)},
          {"candidates", candidates},
          {"note",
           "predicted energies are SIMULATED (sum over bins of N/B * simulated E_batch on the plan's device); "
           "measured energies are the paper's estimate from the measured cells (ESTIMATED when the sensor is a "
           "model)"}};
}

// The measured candidates' estimate from the store's cells, compared with the plan.
Result<Comparison> compare(const MeasuredOptimizePlan& p, const Store& store) {
  auto cells = store.cells();
  if (!cells) return cells.error();
  auto inputs = estimate_inputs(p.plan);
  add_ratings(inputs, p.device);
  auto est = estimate::estimate_workload(p.work.bins, &p.work.lengths, inputs, *cells, estimate::EstimateOptions{},
                                         estimate::CarbonOptions{}, p.plan.candidates[p.plan.baseline].config.name);
  if (!est) return est.error();
  est->lengths_source = p.work.lengths_source;
  return compare_with_measurement(p.plan, *est);
}

std::vector<std::string> summary_lines(const MeasuredOptimizeOptions& o, const MeasuredOptimizePlan& p,
                                       const MeasuredOptimizeOutcome& out) {
  const auto& w = p.work.bins;
  return {fmt::format("workload {}: {} requests in {} bins ({} excluded); lengths divided by {} (input) and {} "
                      "(output)",
                      w.name, w.requests, w.bins.size(), w.excluded, o.scale_input, o.scale_output),
          fmt::format("plan: {} candidates SIMULATED on {}", p.plan.candidates.size(), p.plan.device),
          fmt::format("sweep: {} cells ({} already stored, {} measured, {} skipped) into {}", out.sweep.total,
                      out.sweep.resumed, out.sweep.measured, out.sweep.skipped, o.store),
          out.sensor_note};
}

std::vector<std::string> verdict(const Comparison& cmp) {
  if (!cmp.measured_best) return {"no config could be estimated from the measured cells"};
  return {fmt::format("measured minimum-energy config: {}{}", *cmp.measured_best,
                      cmp.best_saving_pct
                          ? fmt::format(", {:.1f}% less than the baseline {}", *cmp.best_saving_pct, cmp.baseline)
                          : ""),
          fmt::format("prediction: {} was predicted cheapest; the measured best {} the least predicted energy{}; "
                      "Spearman rank correlation of predicted and measured energy {}",
                      cmp.predicted_best.value_or("-"), cmp.predicted_best_is_measured_best ? "had" : "did NOT have",
                      cmp.predicted_best_is_measured_best ? " (ties count)" : "",
                      cmp.spearman ? fmt::format("{:.2f}", *cmp.spearman) : "- (fewer than 2 ranked)")};
}

}  // namespace

Result<MeasuredOptimizePlan> plan_measured_optimize(const MeasuredOptimizeOptions& o) {
  MeasuredOptimizePlan p;
  auto work = measured_workload(o);
  if (!work) return work.error();
  p.work = std::move(*work);
  auto device = plan_device(o);
  if (!device) return device.error();
  p.device = std::move(*device);
  const CandidateSpace space = candidate_space(o);
  if (auto st = sim::check_search_size(
          {space.models.size(), space.threads.size(), space.max_batch.size(), space.batching.size()}, o.max_cells);
      !st)
    return st.error();
  PlanOptions po;
  po.top_k = o.top_k;
  if (o.slo_e2e_s > 0) po.slo_e2e_s = o.slo_e2e_s;
  if (!o.baseline.empty() && o.baseline != "none") po.baseline = o.baseline;
  auto plan = plan_candidates(space, p.work.bins, p.device, po);
  if (!plan) return plan.error();
  p.plan = std::move(*plan);
  p.measurement = measurement_plan(p.plan, p.work.bins, o.warmup, o.reps, o.seed);
  if (auto st = validate_study(p.measurement.study); !st) return st.error();
  return p;
}

std::string plan_summary(const MeasuredOptimizePlan& p) {
  return fmt::format(
      "planned {} candidates on the simulator ({}); measuring the {} predicted cheapest and the "
      "baseline '{}'",
      p.plan.candidates.size(), p.plan.device, p.plan.selected.size() - 1,
      p.plan.candidates[p.plan.baseline].config.name);
}

Result<MeasuredOptimizeOutcome> run_measured_optimize(const MeasuredOptimizeOptions& o, const MeasuredOptimizePlan& p,
                                                      Store& store, SweepEnv& env, SweepProgress* progress,
                                                      bool estimated, const std::string& sensors) {
  auto swept = run_sweep(p.measurement.study, p.measurement.cells, store, env, progress);
  if (!swept) return swept.error();
  if (auto st = no_failed_cells(*swept); !st) return st.error();
  MeasuredOptimizeOutcome out;
  out.sweep = *swept;
  auto cmp = compare(p, store);
  if (!cmp) return cmp.error();
  out.comparison = std::move(*cmp);
  out.estimated = estimated;
  out.sensor_note = estimated ? "no hardware energy sensor was read: measured energies are ESTIMATED from CPU time "
                                "(the CPU-time power model, docs/sensors.md)"
                              : "measured energies come from " + sensors;
  out.document = outcome_json(o, p, out);
  out.summary = summary_lines(o, p, out);
  if (auto st = store.put_artifact({"optimize", "measured-" + p.work.bins.name, out.document, now_unix()}); !st)
    return st.error();
  return out;
}

table::Document measured_optimize_document(const MeasuredOptimizeOutcome& out) {
  table::Document doc;
  doc.header = out.summary;
  table::Table t;
  t.name = "comparison";
  t.title = "Predicted (SIMULATED) against measured energy";
  t.columns = {{"config", "candidate"},
               {"baseline", "the baseline"},
               {"predicted_energy_j", "SIMULATED workload energy, J"},
               {"predicted_rank", "rank by prediction among the measured"},
               {"measured_energy_j", out.estimated ? "ESTIMATED from measured cells, J" : "MEASURED, J"},
               {"measured_rank", "rank by measurement"},
               {"saving_pct", "measured saving against the baseline, %"},
               {"prediction_error_pct", "predicted / measured - 1, %"},
               {"energy_source", "the cells' sensor"},
               {"refused", "why the estimate refused it"}};
  auto opt = [](const std::optional<double>& v) { return v ? table::Value(*v) : table::Value(); };
  for (const auto& c : out.comparison.configs)
    t.rows.push_back({c.name, c.baseline, c.predicted_energy_j, static_cast<std::int64_t>(c.predicted_rank),
                      opt(c.measured_energy_j),
                      c.measured_rank ? table::Value(static_cast<std::int64_t>(*c.measured_rank)) : table::Value(),
                      opt(c.saving_pct), opt(c.prediction_error_pct), c.energy_source, c.refused});
  doc.tables.push_back(std::move(t));
  doc.footer = verdict(out.comparison);
  doc.json = out.document;
  return doc;
}

}  // namespace jouleperf::study
