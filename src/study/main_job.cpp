#include "jouleperf/study/main_job.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "jouleperf/workload/length_scale.hpp"

namespace jouleperf::study {

namespace {

std::vector<std::uint64_t> divide(const std::vector<std::uint64_t>& edges, std::uint32_t d) {
  std::vector<std::uint64_t> out;
  out.reserve(edges.size());
  for (auto e : edges) out.push_back(e / std::max<std::uint32_t>(d, 1));
  return out;
}

Status check_edges(const std::vector<std::uint64_t>& edges, std::uint32_t divisor, const char* what) {
  if (edges.empty()) return make_error(Errc::kInvalidArgument, fmt::format("{} edges: none", what));
  if (divisor == 0) return make_error(Errc::kInvalidArgument, fmt::format("{} divisor: 0", what));
  for (std::size_t k = 0; k < edges.size(); ++k) {
    if (edges[k] == 0 || edges[k] % divisor != 0)
      return make_error(Errc::kInvalidArgument, fmt::format("{} edge {} is not a positive multiple of the divisor {}",
                                                            what, edges[k], divisor));
    if (k > 0 && edges[k] <= edges[k - 1])
      return make_error(Errc::kInvalidArgument,
                        fmt::format("{} edges must increase ({} after {})", what, edges[k], edges[k - 1]));
  }
  return {};
}

}  // namespace

std::vector<std::uint64_t> MainJobScale::scaled_input_edges() const { return divide(input_edges, input_divisor); }
std::vector<std::uint64_t> MainJobScale::scaled_output_edges() const { return divide(output_edges, output_divisor); }

std::string MainJobScale::note() const {
  return fmt::format(
      "scaled to run in minutes on a small CPU: the workloads' lengths are divided by {} (input) and {} (output), "
      "rounded up, and binned on the edges {} (input) and {} (output), i.e. the paper's edges {} and {} before "
      "scaling; energies are for the scaled requests on a synthetic model",
      input_divisor, output_divisor, fmt::join(scaled_input_edges(), ","), fmt::join(scaled_output_edges(), ","),
      fmt::join(input_edges, ","), fmt::join(output_edges, ","));
}

Status validate_scale(const MainJobScale& s) {
  if (auto st = check_edges(s.input_edges, s.input_divisor, "input"); !st) return st;
  return check_edges(s.output_edges, s.output_divisor, "output");
}

Result<ScaledWorkload> scale_default_workload(const workload::DefaultWorkload& w, const MainJobScale& scale) {
  if (auto st = validate_scale(scale); !st) return st.error();
  ScaledWorkload out;
  out.name = std::string(w.name);
  out.lengths_source = fmt::format(
      "drawn inside the embedded bins of {} from its length quantiles (the trace's requests are not shipped; input "
      "and output are independent within a bin)",
      w.name);
  out.real = estimate::lengths_from_default(w);
  out.scaled.inputs.reserve(out.real.inputs.size());
  out.scaled.outputs.reserve(out.real.outputs.size());
  for (std::size_t k = 0; k < out.real.inputs.size(); ++k) {
    out.scaled.inputs.push_back(workload::scale_length_down(out.real.inputs[k], scale.input_divisor));
    out.scaled.outputs.push_back(workload::scale_length_down(out.real.outputs[k], scale.output_divisor));
  }
  workload::BinningOptions opt;
  opt.input_edges = scale.scaled_input_edges();
  opt.output_edges = scale.scaled_output_edges();
  opt.policy = workload::OutOfRange::kExclude;
  auto bins = estimate::bin_lengths(out.scaled, opt, out.name, "embedded:" + out.name);
  if (!bins) return bins.error();
  out.bins = std::move(*bins);
  return out;
}

std::vector<Config> main_job_configs(const MainJobModels& models, std::uint32_t max_batch, int best_threads) {
  auto make = [](std::string name, const std::string& model, std::string weight_type, std::string batching,
                 std::uint32_t batch, int threads) {
    Config c;
    c.name = std::move(name);
    c.engine = "llamacpp";
    c.model = model;
    c.weight_type = std::move(weight_type);
    c.strategy = "greedy";
    c.batching = std::move(batching);
    c.threads = threads;
    c.settings = {{"batches", std::to_string(batch)}};
    return c;
  };
  std::vector<Config> out;
  out.push_back(make("baseline", models.f32_path, "f32", "static", 1, 1));
  out.back().baseline = true;
  out.push_back(make("q8_0", models.q8_path, "q8_0", "static", 1, 1));
  out.push_back(make("q8_0-batched", models.q8_path, "q8_0", "continuous", max_batch, 1));
  if (best_threads != 1) {
    out.push_back(make(fmt::format("q8_0-batched-{}t", best_threads), models.q8_path, "q8_0", "continuous", max_batch,
                       best_threads));
  }
  for (auto& c : out) c.canonicalize();
  return out;
}

Study main_job_study(const std::vector<Config>& configs, const MainJobScale& scale, std::uint32_t warmup,
                     std::uint32_t repetitions) {
  Study s;
  s.name = "main-job";
  s.configs = configs;
  s.input_tokens = scale.scaled_input_edges();
  s.output_tokens = scale.scaled_output_edges();
  std::vector<std::uint64_t> batches;
  for (const auto& c : configs) {
    if (auto b = c.setting("batches")) batches.push_back(std::stoull(*b));
  }
  std::sort(batches.begin(), batches.end());
  batches.erase(std::unique(batches.begin(), batches.end()), batches.end());
  if (batches.empty()) batches.push_back(1);
  s.batch_sizes = batches;
  s.warmup.fixed = warmup;
  s.repetitions = repetitions;
  return s;
}

namespace {

// CDF points of `values`: (value, share of values <= it) at each distinct value, thinned
// to about `points` (the last one always kept).
nlohmann::json cdf(std::vector<std::uint64_t> values, std::size_t points) {
  nlohmann::json out = nlohmann::json::array();
  if (values.empty()) return out;
  std::sort(values.begin(), values.end());
  std::vector<std::pair<std::uint64_t, double>> steps;
  const double n = static_cast<double>(values.size());
  for (std::size_t k = 0; k < values.size(); ++k) {
    if (k + 1 == values.size() || values[k + 1] != values[k])
      steps.emplace_back(values[k], static_cast<double>(k + 1) / n);
  }
  const std::size_t stride = std::max<std::size_t>(1, (steps.size() + points - 1) / std::max<std::size_t>(points, 1));
  for (std::size_t k = 0; k < steps.size(); ++k) {
    if (k % stride == 0 || k + 1 == steps.size()) out.push_back({steps[k].first, steps[k].second});
  }
  return out;
}

}  // namespace

nlohmann::json lengths_document(const ScaledWorkload& w, std::size_t points) {
  const auto bin_of = estimate::bin_index_of_requests(w.bins, w.scaled);
  std::vector<std::uint64_t> ri, ro, bi, bo;
  for (std::size_t k = 0; k < bin_of.size(); ++k) {
    if (bin_of[k] >= w.bins.bins.size()) continue;
    ri.push_back(w.scaled.inputs[k]);
    ro.push_back(w.scaled.outputs[k]);
    bi.push_back(w.bins.bins[bin_of[k]].input_tokens);
    bo.push_back(w.bins.bins[bin_of[k]].output_tokens);
  }
  return {{"workload", w.name},
          {"lengths_source", w.lengths_source},
          {"scaled", true},
          {"real", {{"input", cdf(ri, points)}, {"output", cdf(ro, points)}}},
          {"binned", {{"input", cdf(bi, points)}, {"output", cdf(bo, points)}}}};
}

std::vector<Config> simulated_gpu_configs() {
  auto make = [](std::string name, std::string stack, std::string batching, std::string batches) {
    Config c;
    c.name = std::move(name);
    c.engine = "sim";
    c.model = "Llama-3.1-8B";
    c.weight_type = "bf16";
    c.strategy = "greedy";
    c.batching = std::move(batching);
    c.threads = 0;
    c.settings = {{"batches", std::move(batches)}, {"hardware", "a6000"}, {"stack", std::move(stack)}};
    c.canonicalize();
    return c;
  };
  return {make("a6000-hf-eager", "hf-eager", "static", "1,8"), make("a6000-vllm", "vllm", "continuous", "1,8,64")};
}

}  // namespace jouleperf::study
