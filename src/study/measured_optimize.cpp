#include "jouleperf/study/measured_optimize.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <numeric>
#include <set>
#include <utility>

#include "jouleperf/sim/config.hpp"
#include "jouleperf/sim/model_costs.hpp"
#include "jouleperf/sim/simulator.hpp"

namespace jouleperf::study {

namespace {

// "q8_0 (mixed)" -> "q8_0".
std::string first_word(const std::string& s) { return s.substr(0, s.find(' ')); }

struct ModelFile {
  std::string path;
  std::string stem;  // unique among the models
  ModelInfo info;
  std::string weight_type;
  sim::WeightPrecision precision = sim::WeightPrecision::kFp32;
};

Result<std::vector<ModelFile>> read_models(const std::vector<std::string>& paths) {
  std::vector<ModelFile> out;
  std::map<std::string, int> stems;
  for (const auto& path : paths) {
    if (path.empty()) return make_error(Errc::kInvalidArgument, "a model path is empty");
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
      return make_error(Errc::kNotFound, fmt::format("model file '{}' does not exist", path));
    auto info = read_gguf_info(path);
    if (!info) return make_error(info.error().code, fmt::format("model file '{}': {}", path, info.error().message));
    ModelFile m;
    m.path = path;
    m.info = *info;
    m.weight_type = first_word(info->weight_type);
    auto p = sim::parse_weight_precision(m.weight_type);
    if (!p)
      return make_error(Errc::kUnsupported, fmt::format("model file '{}': weight type '{}' cannot be simulated ({})",
                                                        path, info->weight_type, p.error().message));
    m.precision = *p;
    std::string stem = std::filesystem::path(path).stem().string();
    const int seen = stems[stem]++;
    m.stem = seen == 0 ? stem : fmt::format("{}.{}", stem, seen + 1);
    out.push_back(std::move(m));
  }
  return out;
}

template <typename T>
std::vector<T> unique_in_order(const std::vector<T>& xs) {
  std::vector<T> out;
  for (const auto& x : xs)
    if (std::find(out.begin(), out.end(), x) == out.end()) out.push_back(x);
  return out;
}

Result<hardware::HardwareProfile> profile_for(const PlanDevice& device, int threads) {
  if (device.fixed) return *device.fixed;
  if (!device.cpu) return make_error(Errc::kInvalidArgument, "plan device: neither a host CPU nor a fixed profile");
  hardware::HostProfileOptions o = device.host;
  o.threads = threads;
  return hardware::host_cpu_profile(*device.cpu, o);
}

// p-quantile (0..1) of values weighted by counts (the smallest value whose cumulative
// weight reaches p of the total).
double weighted_quantile(std::vector<std::pair<double, std::uint64_t>> xs, double p) {
  if (xs.empty()) return 0.0;
  std::sort(xs.begin(), xs.end());
  std::uint64_t total = 0;
  for (const auto& x : xs) total += x.second;
  const double target = p * static_cast<double>(total);
  std::uint64_t cum = 0;
  for (const auto& x : xs) {
    cum += x.second;
    if (static_cast<double>(cum) >= target) return x.first;
  }
  return xs.back().first;
}

Result<Candidate> price(const ModelFile& m, int threads, std::uint32_t batch, const std::string& batching,
                        const std::string& strategy, const estimate::WorkloadBins& bins, const PlanDevice& device,
                        const PlanOptions& options) {
  Candidate c;
  c.config.name = candidate_name(m.stem, threads, batch, batching);
  c.config.engine = "llamacpp";
  c.config.model = m.path;
  c.config.weight_type = m.weight_type;
  c.config.strategy = strategy;
  c.config.batching = batching;
  c.config.threads = threads;
  c.config.settings = {{"batches", std::to_string(batch)}};
  c.config.canonicalize();
  c.model = m.info;
  c.weight_type = m.weight_type;

  auto hw = profile_for(device, threads);
  if (!hw) return hw.error();
  sim::SimConfig sc = sim::make_config(*hw, device.stack, m.info);
  if (device.power) sc.power = *device.power;
  sc.precision = m.precision;
  auto mode = sim::parse_batching(batching);
  if (!mode) return make_error(Errc::kInvalidArgument, mode.error().message);
  sc.batching = *mode;
  sc.max_batch = batch;
  sc.keep_requests = false;

  std::vector<std::pair<double, std::uint64_t>> latencies;
  double latency_sum = 0.0;
  std::uint64_t requests = 0;
  c.feasible = true;
  const std::uint64_t context = m.info.arch.context_length;
  for (const auto& b : bins.bins) {
    if (b.requests == 0) continue;
    if (context > 0 && b.input_tokens + b.output_tokens > context) {
      c.feasible = false;
      c.why = fmt::format("I={} O={}: input + output exceeds the model's context length {}", b.input_tokens,
                          b.output_tokens, context);
      break;
    }
    auto run = sim::simulate_batch(sc, static_cast<std::uint32_t>(b.input_tokens),
                                   static_cast<std::uint32_t>(b.output_tokens), batch);
    if (!run) {
      if (run.error().code == Errc::kUnsupported) {
        c.feasible = false;
        c.why = fmt::format("I={} O={} B={}: {}", b.input_tokens, b.output_tokens, batch, run.error().message);
        break;
      }
      return make_error(run.error().code, fmt::format("{}: simulating I={} O={} B={}: {}", c.config.name,
                                                      b.input_tokens, b.output_tokens, batch, run.error().message));
    }
    if (!run->fits) {
      c.feasible = false;
      c.why = fmt::format("I={} O={} B={}: the batch's KV cache does not fit", b.input_tokens, b.output_tokens, batch);
      break;
    }
    PlannedBin pb;
    pb.input_tokens = b.input_tokens;
    pb.output_tokens = b.output_tokens;
    pb.requests = b.requests;
    pb.batch = batch;
    pb.energy_batch_j = run->energy_j;
    pb.duration_s = run->duration_s;
    pb.energy_j = static_cast<double>(b.requests) / static_cast<double>(batch) * run->energy_j;
    c.predicted_energy_j += pb.energy_j;
    latencies.emplace_back(run->duration_s, b.requests);
    latency_sum += run->duration_s * static_cast<double>(b.requests);
    requests += b.requests;
    c.bins.push_back(pb);
  }
  if (c.feasible) {
    c.predicted_e2e_p99_s = weighted_quantile(latencies, 0.99);
    c.predicted_e2e_mean_s = requests > 0 ? latency_sum / static_cast<double>(requests) : 0.0;
    if (options.slo_e2e_s && c.predicted_e2e_p99_s > *options.slo_e2e_s) {
      c.feasible = false;
      c.why =
          fmt::format("predicted p99 end-to-end {:.3g} s > SLO {:.3g} s", c.predicted_e2e_p99_s, *options.slo_e2e_s);
    }
  }
  return c;
}

}  // namespace

std::string candidate_name(const std::string& model_stem, int threads, std::uint32_t batch,
                           const std::string& batching) {
  return fmt::format("{}-t{}-b{}-{}", model_stem, threads, batch, batching);
}

Result<Plan> plan_candidates(const CandidateSpace& space, const estimate::WorkloadBins& bins, const PlanDevice& device,
                             const PlanOptions& options) {
  if (space.models.empty()) return make_error(Errc::kInvalidArgument, "no model files: give at least one");
  if (space.threads.empty()) return make_error(Errc::kInvalidArgument, "no thread counts to try");
  if (space.max_batch.empty()) return make_error(Errc::kInvalidArgument, "no batch sizes to try");
  if (space.batching.empty()) return make_error(Errc::kInvalidArgument, "no batching modes to try");
  if (options.top_k == 0) return make_error(Errc::kInvalidArgument, "top K must be at least 1");
  for (int t : space.threads)
    if (t < 1) return make_error(Errc::kInvalidArgument, fmt::format("thread count {}: must be at least 1", t));
  for (auto b : space.max_batch)
    if (b < 1) return make_error(Errc::kInvalidArgument, "batch size 0: must be at least 1");
  for (const auto& b : space.batching)
    if (b != "static" && b != "continuous")
      return make_error(Errc::kInvalidArgument, fmt::format("batching '{}': static or continuous", b));
  std::uint64_t requests = 0;
  for (const auto& b : bins.bins) requests += b.requests;
  if (requests == 0)
    return make_error(Errc::kInvalidArgument, fmt::format("workload '{}' has no binned requests", bins.name));

  auto models = read_models(unique_in_order(space.models));
  if (!models) return models.error();

  Plan plan;
  plan.device = device.description;
  plan.requests = requests;
  const auto threads = unique_in_order(space.threads);
  const auto batches = unique_in_order(space.max_batch);
  const auto modes = unique_in_order(space.batching);
  for (const auto& m : *models)
    for (int t : threads)
      for (auto b : batches)
        for (const auto& mode : modes) {
          auto c = price(m, t, b, mode, space.strategy, bins, device, options);
          if (!c) return c.error();
          plan.candidates.push_back(std::move(*c));
        }

  // The baseline.
  std::optional<std::size_t> base;
  if (!options.baseline.empty()) {
    for (std::size_t k = 0; k < plan.candidates.size(); ++k)
      if (plan.candidates[k].config.name == options.baseline) base = k;
    if (!base)
      return make_error(Errc::kInvalidArgument, fmt::format("baseline '{}' is not a candidate (names look like {})",
                                                            options.baseline, plan.candidates.front().config.name));
  } else {
    const std::string name = candidate_name(models->front().stem, 1, 1, "static");
    for (std::size_t k = 0; k < plan.candidates.size(); ++k)
      if (plan.candidates[k].config.name == name) base = k;
    if (!base) {
      auto c = price(models->front(), 1, 1, "static", space.strategy, bins, device, options);
      if (!c) return c.error();
      plan.candidates.push_back(std::move(*c));
      base = plan.candidates.size() - 1;
    }
  }
  plan.baseline = *base;
  plan.candidates[plan.baseline].config.baseline = true;

  // Rank the feasible ones by predicted energy (ties: grid order).
  std::vector<std::size_t> order;
  for (std::size_t k = 0; k < plan.candidates.size(); ++k)
    if (plan.candidates[k].feasible) order.push_back(k);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return plan.candidates[a].predicted_energy_j < plan.candidates[b].predicted_energy_j;
  });
  for (std::size_t r = 0; r < order.size(); ++r) plan.candidates[order[r]].predicted_rank = r + 1;
  for (std::size_t k : order) {
    if (plan.selected.size() == options.top_k) break;
    if (k == plan.baseline) continue;
    plan.selected.push_back(k);
  }
  plan.selected.push_back(plan.baseline);
  for (std::size_t k : plan.selected) plan.candidates[k].selected = true;
  return plan;
}

MeasurementPlan measurement_plan(const Plan& plan, const estimate::WorkloadBins& bins, std::uint32_t warmup,
                                 std::uint32_t repetitions, std::uint64_t seed) {
  MeasurementPlan out;
  Study& s = out.study;
  s.name = "optimize";
  std::set<std::uint64_t> inputs, outputs, batches;
  std::set<std::pair<std::uint64_t, std::uint64_t>> occupied;
  for (const auto& b : bins.bins) {
    if (b.requests == 0) continue;
    inputs.insert(b.input_tokens);
    outputs.insert(b.output_tokens);
    occupied.insert({b.input_tokens, b.output_tokens});
  }
  for (std::size_t k : plan.selected) {
    s.configs.push_back(plan.candidates[k].config);
    if (auto b = plan.candidates[k].config.setting("batches")) batches.insert(std::stoull(*b));
  }
  s.input_tokens.assign(inputs.begin(), inputs.end());
  s.output_tokens.assign(outputs.begin(), outputs.end());
  s.batch_sizes.assign(batches.begin(), batches.end());
  if (s.batch_sizes.empty()) s.batch_sizes.push_back(1);
  s.warmup.fixed = warmup;
  s.repetitions = repetitions;
  s.seed = seed;
  for (auto& cell : expand_grid(s))
    if (occupied.count({cell.key.input_tokens, cell.key.output_tokens}) > 0) out.cells.push_back(cell);
  return out;
}

std::vector<estimate::ConfigInputs> estimate_inputs(const Plan& plan) {
  std::vector<estimate::ConfigInputs> out;
  for (std::size_t k : plan.selected) {
    estimate::ConfigInputs in;
    in.config = plan.candidates[k].config;
    in.model = plan.candidates[k].model;
    in.ideal_note = "no device rating given";
    out.push_back(std::move(in));
  }
  return out;
}

namespace {

// 1-based ranks, ties sharing their average rank.
std::vector<double> ranks_of(const std::vector<double>& xs) {
  std::vector<std::size_t> idx(xs.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return xs[a] < xs[b]; });
  std::vector<double> r(xs.size());
  for (std::size_t i = 0; i < idx.size();) {
    std::size_t j = i;
    while (j + 1 < idx.size() && xs[idx[j + 1]] == xs[idx[i]]) ++j;
    const double avg = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
    for (std::size_t k = i; k <= j; ++k) r[idx[k]] = avg;
    i = j + 1;
  }
  return r;
}

}  // namespace

std::optional<double> spearman_rho(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size() || a.size() < 2) return std::nullopt;
  const auto ra = ranks_of(a), rb = ranks_of(b);
  const double n = static_cast<double>(a.size());
  const double ma = std::accumulate(ra.begin(), ra.end(), 0.0) / n;
  const double mb = std::accumulate(rb.begin(), rb.end(), 0.0) / n;
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t k = 0; k < ra.size(); ++k) {
    sab += (ra[k] - ma) * (rb[k] - mb);
    saa += (ra[k] - ma) * (ra[k] - ma);
    sbb += (rb[k] - mb) * (rb[k] - mb);
  }
  if (saa <= 0 || sbb <= 0) return std::nullopt;
  return sab / std::sqrt(saa * sbb);
}

Result<Comparison> compare_with_measurement(const Plan& plan, const estimate::WorkloadEstimate& measured) {
  Comparison out;
  out.baseline = plan.candidates[plan.baseline].config.name;
  std::map<std::string, const estimate::ConfigReport*> by_name;
  for (const auto& r : measured.configs) by_name[r.estimate.config] = &r;
  std::map<std::string, std::string> refused;
  for (const auto& r : measured.refused) refused[r.config] = r.message;
  std::set<std::string> selected;
  for (std::size_t k : plan.selected) selected.insert(plan.candidates[k].config.name);
  for (const auto& [name, report] : by_name)
    if (selected.count(name) == 0)
      return make_error(Errc::kInvalidArgument,
                        fmt::format("the estimate holds config '{}', which the plan did not select", name));

  for (std::size_t k : plan.selected) {
    const Candidate& c = plan.candidates[k];
    ComparedConfig cc;
    cc.name = c.config.name;
    cc.baseline = k == plan.baseline;
    cc.predicted_energy_j = c.predicted_energy_j;
    if (auto it = by_name.find(cc.name); it != by_name.end()) {
      const auto& e = it->second->estimate;
      cc.measured_energy_j = e.paper.value_j;
      cc.measured_lo_j = e.paper.lo_j;
      cc.measured_hi_j = e.paper.hi_j;
      cc.energy_source = e.energy_source;
      cc.estimated = e.estimated;
      if (e.paper.value_j > 0) cc.prediction_error_pct = 100.0 * (c.predicted_energy_j / e.paper.value_j - 1.0);
    } else if (auto r = refused.find(cc.name); r != refused.end()) {
      cc.refused = r->second;
    } else {
      cc.refused = "not in the estimate";
    }
    out.configs.push_back(std::move(cc));
  }

  // Ranks: predicted over every measured config; measured over those with an energy.
  std::vector<double> pred;
  for (const auto& c : out.configs) pred.push_back(c.predicted_energy_j);
  const auto pr = ranks_of(pred);
  for (std::size_t k = 0; k < out.configs.size(); ++k) out.configs[k].predicted_rank = static_cast<std::size_t>(pr[k]);
  std::vector<std::size_t> with;
  std::vector<double> p2, m2;
  for (std::size_t k = 0; k < out.configs.size(); ++k)
    if (out.configs[k].measured_energy_j) {
      with.push_back(k);
      p2.push_back(out.configs[k].predicted_energy_j);
      m2.push_back(*out.configs[k].measured_energy_j);
    }
  const auto mr = ranks_of(m2);
  for (std::size_t k = 0; k < with.size(); ++k) out.configs[with[k]].measured_rank = static_cast<std::size_t>(mr[k]);
  out.spearman = spearman_rho(p2, m2);
  if (!with.empty()) {
    std::size_t bp = with.front(), bm = with.front();
    for (std::size_t k : with) {
      if (out.configs[k].predicted_energy_j < out.configs[bp].predicted_energy_j) bp = k;
      if (*out.configs[k].measured_energy_j < *out.configs[bm].measured_energy_j) bm = k;
    }
    out.predicted_best = out.configs[bp].name;
    out.measured_best = out.configs[bm].name;
    // A tie in the prediction (static and continuous batching of one controlled batch often
    // simulate alike) counts as agreement when the measured best is among the tied.
    out.predicted_best_is_measured_best = out.configs[bm].predicted_energy_j <= out.configs[bp].predicted_energy_j;
  }
  const ComparedConfig* base = nullptr;
  for (const auto& c : out.configs)
    if (c.baseline) base = &c;
  if (base != nullptr && base->measured_energy_j && *base->measured_energy_j > 0) {
    for (auto& c : out.configs)
      if (c.measured_energy_j) c.saving_pct = 100.0 * (1.0 - *c.measured_energy_j / *base->measured_energy_j);
    for (const auto& c : out.configs)
      if (out.measured_best && c.name == *out.measured_best) out.best_saving_pct = c.saving_pct;
  }
  return out;
}

nlohmann::json to_json(const Candidate& c) {
  nlohmann::json bins = nlohmann::json::array();
  for (const auto& b : c.bins)
    bins.push_back({{"input_tokens", b.input_tokens},
                    {"output_tokens", b.output_tokens},
                    {"requests", b.requests},
                    {"batch", b.batch},
                    {"energy_batch_j", b.energy_batch_j},
                    {"duration_s", b.duration_s},
                    {"energy_j", b.energy_j}});
  auto opt = [](const auto& o) { return o ? nlohmann::json(*o) : nlohmann::json(nullptr); };
  return {{"name", c.config.name},
          {"config", study::to_json(c.config)},
          {"weight_type", c.weight_type},
          {"predicted",
           {{"source", "simulated"},
            {"simulated", true},
            {"energy_j", c.predicted_energy_j},
            {"e2e_p99_s", c.predicted_e2e_p99_s},
            {"e2e_mean_s", c.predicted_e2e_mean_s},
            {"bins", bins}}},
          {"feasible", c.feasible},
          {"why", c.why},
          {"predicted_rank", opt(c.predicted_rank)},
          {"selected", c.selected}};
}

nlohmann::json to_json(const Comparison& c) {
  auto opt = [](const auto& o) { return o ? nlohmann::json(*o) : nlohmann::json(nullptr); };
  nlohmann::json configs = nlohmann::json::array();
  for (const auto& x : c.configs) {
    configs.push_back(
        {{"name", x.name},
         {"baseline", x.baseline},
         {"predicted", {{"energy_j", x.predicted_energy_j}, {"source", "simulated"}, {"simulated", true}}},
         {"predicted_rank", x.predicted_rank},
         {"measured", x.measured_energy_j ? nlohmann::json{{"energy_j", *x.measured_energy_j},
                                                           {"lo_j", opt(x.measured_lo_j)},
                                                           {"hi_j", opt(x.measured_hi_j)},
                                                           {"source", x.energy_source},
                                                           {"estimated", x.estimated},
                                                           {"label", x.estimated ? "ESTIMATED" : "MEASURED"}}
                                          : nlohmann::json(nullptr)},
         {"measured_rank", opt(x.measured_rank)},
         {"saving_pct", opt(x.saving_pct)},
         {"prediction_error_pct", opt(x.prediction_error_pct)},
         {"refused", x.refused}});
  }
  return {{"configs", configs},
          {"baseline", c.baseline},
          {"predicted_best", opt(c.predicted_best)},
          {"measured_best", opt(c.measured_best)},
          {"predicted_best_is_measured_best", c.predicted_best_is_measured_best},
          {"spearman", opt(c.spearman)},
          {"best_saving_pct", opt(c.best_saving_pct)}};
}

}  // namespace jouleperf::study
