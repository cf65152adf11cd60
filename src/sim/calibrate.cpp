#include "jouleperf/sim/calibrate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "jouleperf/sim/nelder_mead.hpp"
#include "jouleperf/sim/simulator.hpp"

namespace jouleperf::sim {

namespace {

// The fitted figures, as logs (so every figure stays positive), in this order.
enum Param : std::size_t {
  kMatmulRate,       // FLOP/s at the weights' precision (and the other rates scaled with it)
  kBandwidth,        // bytes/s
  kHostStep,         // s per step
  kHostSequence,     // s per sequence per step
  kIdlePower,        // W
  kDynamicPower,     // TDP - idle, W
  kActiveFloor,      // logit of the power model's active floor
  kDecodeAttention,  // logit of the stack's decode attention efficiency, in (0, 1)
  kDecodeMatmul,     // logit of the stack's decode matmul efficiency, in (0, 1)
  kParams
};
using Point = std::vector<double>;  // kParams figures

double logistic(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// `base` with the figures of point p.
SimConfig with_point(const SimConfig& base, const Point& p) {
  SimConfig c = base;
  const double rate = std::exp(p[kMatmulRate]);
  // Scale every precision's rate by the same factor, so the weights' precision keeps its
  // relation to the others (attention and logits run at the bf16 / fp32 rate).
  auto& f = c.hardware.peak_flops;
  const double ref =
      base.precision == WeightPrecision::kFp32 ? base.hardware.peak_flops.fp32
      : base.precision == WeightPrecision::kInt8 && base.hardware.peak_flops.int8 > 0
          ? base.hardware.peak_flops.int8
          : (base.hardware.peak_flops.bf16 > 0 ? base.hardware.peak_flops.bf16 : base.hardware.peak_flops.fp32);
  const double k = ref > 0 ? rate / ref : 1.0;
  f.fp32 *= k;
  f.tf32 *= k;
  f.bf16 *= k;
  f.fp8 *= k;
  f.int8 *= k;
  c.hardware.memory_bandwidth_bps = std::exp(p[kBandwidth]);
  c.stack.compute_efficiency = 1.0;
  c.stack.memory_efficiency = 1.0;
  c.stack.host_s_per_step = std::exp(p[kHostStep]);
  c.stack.host_s_per_sequence = std::exp(p[kHostSequence]);
  c.hardware.idle_w = std::exp(p[kIdlePower]);
  c.hardware.tdp_w = c.hardware.idle_w + std::exp(p[kDynamicPower]);
  c.power.active_floor = logistic(p[kActiveFloor]);
  // Smooth in (0, 1): a cap such as min(1, e^p) is flat above it, and a simplex that wanders
  // there has no slope to come back by (seen: fits stuck at efficiency 1).
  c.stack.decode_attention_efficiency = std::max(logistic(p[kDecodeAttention]), 1e-6);
  c.stack.decode_matmul_efficiency = std::max(logistic(p[kDecodeMatmul]), 1e-6);
  c.keep_requests = false;
  c.timeline_bins = 1;
  return c;
}

struct Prediction {
  double duration_s = 0.0;
  double energy_j = 0.0;
};

Result<Prediction> predict(const SimConfig& c, const MeasuredBatch& m) {
  auto run = simulate_batch(c, m.input_tokens, m.output_tokens, m.batch);
  if (!run) return run.error();
  if (!run->fits)
    return make_error(Errc::kInvalidArgument, fmt::format("{}: does not fit the simulated device's memory", m.label));
  return Prediction{run->duration_s, run->energy_j};
}

double sq_log_error(double predicted, double measured) {
  const double e = std::log(std::max(predicted, 1e-12) / measured);
  return e * e;
}

double mape(const std::vector<double>& errs) {
  if (errs.empty()) return 0.0;
  double s = 0.0;
  for (double e : errs) s += e;
  return 100.0 * s / static_cast<double>(errs.size());
}

}  // namespace

Result<CalibrationResult> calibrate(const SimConfig& base, const std::vector<MeasuredBatch>& cells,
                                    const CalibrationOptions& options) {
  if (options.hold_out_every < 2)
    return make_error(Errc::kInvalidArgument, "calibrate: hold_out_every must be at least 2");
  if (cells.size() < 4)
    return make_error(
        Errc::kInvalidArgument,
        fmt::format("calibrate: {} measured cells; at least 4 are needed (3 to fit, 1 to check)", cells.size()));
  for (const auto& m : cells) {
    if (!(m.duration_s > 0.0) || !(m.energy_j > 0.0) || m.batch == 0 || m.input_tokens == 0 || m.output_tokens == 0)
      return make_error(Errc::kInvalidArgument,
                        fmt::format("calibrate: cell '{}' has a zero length, batch, duration or energy", m.label));
  }
  std::vector<bool> held(cells.size(), false);
  for (std::size_t k = 1; k < cells.size(); k += options.hold_out_every) held[k] = true;

  // Start from the base figures at the stack's efficiencies.
  Point x0(kParams, 0.0);
  {
    const auto& hw = base.hardware;
    const double rate = base.precision == WeightPrecision::kFp32
                            ? hw.peak_flops.fp32
                            : (hw.peak_flops.bf16 > 0 ? hw.peak_flops.bf16 : hw.peak_flops.fp32);
    x0[kMatmulRate] = std::log(std::max(rate * base.stack.compute_efficiency, 1e6));
    x0[kBandwidth] = std::log(std::max(hw.memory_bandwidth_bps * base.stack.memory_efficiency, 1e6));
    x0[kHostStep] = std::log(std::max(base.stack.host_s_per_step, 1e-6));
    x0[kHostSequence] = std::log(std::max(base.stack.host_s_per_sequence, 1e-7));
    x0[kIdlePower] = std::log(std::max(hw.idle_w, 0.1));
    x0[kDynamicPower] = std::log(std::max(hw.tdp_w - hw.idle_w, 0.1));
    const double floor = std::clamp(base.power.active_floor, 0.01, 0.99);
    x0[kActiveFloor] = std::log(floor / (1.0 - floor));
    const double attention = std::clamp(base.stack.decode_attention_efficiency, 0.01, 0.99);
    x0[kDecodeAttention] = std::log(attention / (1.0 - attention));
    const double matmul = std::clamp(base.stack.decode_matmul_efficiency, 0.01, 0.99);
    x0[kDecodeMatmul] = std::log(matmul / (1.0 - matmul));
  }

  // Objective over the training cells; an error from the simulator is remembered and
  // makes the point infinitely bad.
  std::optional<Error> sim_error;
  auto objective = [&](const Point& p) {
    const SimConfig c = with_point(base, p);
    double sum = 0.0;
    for (std::size_t k = 0; k < cells.size(); ++k) {
      if (held[k]) continue;
      auto pr = predict(c, cells[k]);
      if (!pr) {
        if (!sim_error) sim_error = pr.error();
        return std::numeric_limits<double>::infinity();
      }
      sum += sq_log_error(pr->duration_s, cells[k].duration_s) + sq_log_error(pr->energy_j, cells[k].energy_j);
    }
    return sum;
  };

  // Several starts: the base figures with three settings of the figures the objective is
  // flattest in (decode efficiencies, active floor, host times), then points drawn around
  // the base (each figure within a factor of 10 either way, a fixed seed, so a fit is
  // repeatable). A single Nelder-Mead search settles in whichever basin it starts in
  // (seen: memory-bound decode with zero host time when the weights sit in the CPU's cache).
  const double base_f = objective(x0);
  if (!std::isfinite(base_f)) return sim_error ? *sim_error : make_error(Errc::kInternal, "calibrate: no start");
  auto logit = [](double v) { return std::log(v / (1.0 - v)); };
  std::vector<Point> starts;
  struct Shape {
    double decode_attention, decode_matmul, floor, host_step_s, host_sequence_s;
  };
  for (const Shape& sh :
       {Shape{0.5, 0.9, 0.5, 0.0, 0.0}, Shape{0.05, 0.6, 0.2, 1e-3, 1e-3}, Shape{0.005, 0.3, 0.8, 1e-4, 3e-4}}) {
    Point p = x0;
    p[kDecodeAttention] = logit(sh.decode_attention);
    p[kDecodeMatmul] = logit(sh.decode_matmul);
    p[kActiveFloor] = logit(sh.floor);
    if (sh.host_step_s > 0.0) p[kHostStep] = std::log(sh.host_step_s);
    if (sh.host_sequence_s > 0.0) p[kHostSequence] = std::log(sh.host_sequence_s);
    starts.push_back(p);
  }
  std::uint64_t state = 0x6a09e667f3bcc909ULL;
  auto uniform = [&state]() {  // splitmix64 -> [0, 1)
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return static_cast<double>((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
  };
  for (std::uint32_t k = 0; k < options.random_starts; ++k) {
    Point p = x0;
    for (double& v : p) v += (2.0 * uniform() - 1.0) * std::log(10.0);
    starts.push_back(p);
  }
  // Each search starts with a simplex of a factor of 2 on each figure, smaller at each
  // restart; a restart runs at most a sixth of the search's evaluations (at least 200).
  NelderMeadOptions search;
  search.step = 0.7;
  search.min_step = 0.02;
  search.tolerance = 1e-10;
  search.max_evaluations = options.max_evaluations;
  search.restart_evaluations = std::max<std::uint32_t>(options.max_evaluations / 6, 200);
  search.min_gain = 1e-9;
  search.quiet_restarts = 2;
  const auto found = nelder_mead_best_of(objective, starts, search);
  const Point& best = found.value < base_f ? found.x : x0;

  CalibrationResult out;
  out.config = with_point(base, best);
  out.config.keep_requests = base.keep_requests;
  out.config.timeline_bins = base.timeline_bins;
  out.config.hardware.sources["peak_flops"] = "fitted by jouleperf calibrate (effective rate, efficiency 1)";
  out.config.hardware.sources["memory_bandwidth_bps"] = "fitted by jouleperf calibrate (effective, efficiency 1)";
  out.config.hardware.sources["idle_w"] = "fitted by jouleperf calibrate";
  out.config.hardware.sources["tdp_w"] = "fitted by jouleperf calibrate (idle + dynamic)";
  out.evaluations = 1 + found.evaluations;  // the base figures' and the searches'
  std::vector<double> te, tl, he, hl;
  for (std::size_t k = 0; k < cells.size(); ++k) {
    auto pr = predict(out.config, cells[k]);
    if (!pr) return pr.error();
    CellFit fit{cells[k], pr->duration_s, pr->energy_j, held[k]};
    const double ee = std::abs(pr->energy_j / cells[k].energy_j - 1.0);
    const double el = std::abs(pr->duration_s / cells[k].duration_s - 1.0);
    (held[k] ? he : te).push_back(ee);
    (held[k] ? hl : tl).push_back(el);
    out.cells.push_back(fit);
  }
  out.train_cells = static_cast<std::uint32_t>(te.size());
  out.heldout_cells = static_cast<std::uint32_t>(he.size());
  out.train_mape_energy_pct = mape(te);
  out.train_mape_latency_pct = mape(tl);
  out.heldout_mape_energy_pct = mape(he);
  out.heldout_mape_latency_pct = mape(hl);
  return out;
}

}  // namespace jouleperf::sim
