#include "jouleperf/sim/serving_fit.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "jouleperf/sim/nelder_mead.hpp"

namespace jouleperf::sim {

namespace {

// Where each fitted figure lives.
struct Slot {
  double SoftwareStack::*stack = nullptr;
  double PowerModel::*power = nullptr;
};

struct Figure {
  FittedFigure f;
  Slot slot;
};

// Physical bounds. Steady-state rows cannot tell a low weight-streaming efficiency from a
// fixed host cost per step, nor the power's active floor from its memory weight: the lower
// bounds (vLLM decode streams at ~70-85 % of HBM bandwidth; a GPU running kernels holds
// boost clocks, well above idle) keep those costs where they belong.
std::vector<Figure> figures() {
  return {
      {{"compute_efficiency", 0, 0.30, 1.0}, {&SoftwareStack::compute_efficiency, nullptr}},
      {{"memory_efficiency", 0, 0.72, 1.0}, {&SoftwareStack::memory_efficiency, nullptr}},
      {{"host_s_per_step", 0, 0.0, 3e-3}, {&SoftwareStack::host_s_per_step, nullptr}},
      {{"active_floor", 0, 0.2, 0.95}, {nullptr, &PowerModel::active_floor}},
      {{"memory_weight", 0, 0.0, 2.0}, {nullptr, &PowerModel::memory_weight}},
      {{"compute_weight", 0, 1.0, 6.0}, {nullptr, &PowerModel::compute_weight}},
  };
}

double logistic(double z) { return 1.0 / (1.0 + std::exp(-z)); }
double to_z(double v, double lo, double hi) {
  const double u = std::clamp((v - lo) / (hi - lo), 1e-4, 1.0 - 1e-4);
  return std::log(u / (1.0 - u));
}

void apply(const std::vector<Figure>& figs, const std::vector<double>& z, SoftwareStack& s, PowerModel& p) {
  for (std::size_t i = 0; i < figs.size(); ++i) {
    const double v = figs[i].f.lo + (figs[i].f.hi - figs[i].f.lo) * logistic(z[i]);
    if (figs[i].slot.stack) s.*(figs[i].slot.stack) = v;
    if (figs[i].slot.power) p.*(figs[i].slot.power) = v;
  }
}

double log_err(double predicted, double measured) { return std::log(std::max(predicted, 1e-300) / measured); }

// Squared log errors of one row's figures (J per request only without J per token).
double row_loss(const SteadyState& s, const ServingMeasurement& m) {
  double sum = 0;
  auto add = [&](double pred, const std::optional<double>& meas) {
    if (meas) sum += std::pow(log_err(pred, *meas), 2);
  };
  add(s.power_w, m.power_w);
  add(s.j_per_output_token, m.j_per_output_token);
  if (!m.j_per_output_token) add(s.j_per_request, m.j_per_request);
  add(s.median_itl_s, m.median_itl_s);
  add(s.output_tokens_per_s, m.output_tokens_per_s);
  return sum;
}

Result<ServingComparison> compare_one(const ServingCase& c, const SoftwareStack& stack, const PowerModel& power,
                                      const std::string& origin) {
  SimConfig cfg = c.config;
  cfg.stack = stack;
  cfg.power = power;
  auto s = steady_state(cfg, c.measured.mean_batch, c.input_tokens, c.measured.mean_output_tokens);
  if (!s)
    return make_error(s.error().code,
                      fmt::format("{}:{}: field 'avg_batch_size': {}", origin, c.measured.line, s.error().message));
  ServingComparison r;
  r.measured = c.measured;
  r.input_tokens = c.input_tokens;
  r.predicted = *s;
  auto rel = [](double pred, const std::optional<double>& meas) -> std::optional<double> {
    if (!meas) return std::nullopt;
    return pred / *meas - 1.0;
  };
  r.power_err = rel(s->power_w, c.measured.power_w);
  r.j_per_token_err = rel(s->j_per_output_token, c.measured.j_per_output_token);
  r.j_per_request_err = rel(s->j_per_request, c.measured.j_per_request);
  r.itl_err = rel(s->median_itl_s, c.measured.median_itl_s);
  r.throughput_err = rel(s->output_tokens_per_s, c.measured.output_tokens_per_s);
  return r;
}

ErrorSummary summary_of(std::vector<double> abs_errs) {
  ErrorSummary s;
  s.rows = abs_errs.size();
  if (abs_errs.empty()) return s;
  std::sort(abs_errs.begin(), abs_errs.end());
  const std::size_t n = abs_errs.size();
  s.median_abs = n % 2 == 1 ? abs_errs[n / 2] : 0.5 * (abs_errs[n / 2 - 1] + abs_errs[n / 2]);
  s.worst_abs = abs_errs.back();
  return s;
}

struct Fit {
  SoftwareStack stack;
  PowerModel power;
  double objective = 0;
};

Result<Fit> fit_once(const std::vector<ServingCase>& cases, std::size_t skip, const SoftwareStack& base_stack,
                     const PowerModel& base_power, const std::string& origin, std::uint32_t budget,
                     std::uint32_t& evaluations) {
  const auto figs = figures();
  std::optional<Error> failure;
  auto objective = [&](const std::vector<double>& z) {
    SoftwareStack s = base_stack;
    PowerModel p = base_power;
    apply(figs, z, s, p);
    double sum = 0;
    for (std::size_t k = 0; k < cases.size(); ++k) {
      if (k == skip) continue;
      SimConfig cfg = cases[k].config;
      cfg.stack = s;
      cfg.power = p;
      auto st =
          steady_state(cfg, cases[k].measured.mean_batch, cases[k].input_tokens, cases[k].measured.mean_output_tokens);
      if (!st) {
        if (!failure)
          failure = make_error(st.error().code, fmt::format("{}:{}: field 'avg_batch_size': {}", origin,
                                                            cases[k].measured.line, st.error().message));
        return std::numeric_limits<double>::infinity();
      }
      sum += row_loss(*st, cases[k].measured);
    }
    return sum;
  };
  // Starts: the base figures, then a low-floor/high-efficiency and a high-floor/low-efficiency corner.
  std::vector<std::vector<double>> starts;
  {
    std::vector<double> z;
    SoftwareStack s = base_stack;
    PowerModel p = base_power;
    for (const auto& fg : figs)
      z.push_back(to_z(fg.slot.stack ? s.*(fg.slot.stack) : p.*(fg.slot.power), fg.f.lo, fg.f.hi));
    starts.push_back(z);
    starts.push_back(std::vector<double>(figs.size(), 1.0));
    starts.push_back(std::vector<double>(figs.size(), -1.0));
  }
  // Each search: a simplex of 1 in z, halved at each of at most 8 restarts while they gain.
  NelderMeadOptions search;
  search.step = 1.0;
  search.min_step = 0.05;
  search.tolerance = 1e-12;
  search.max_evaluations = budget / static_cast<std::uint32_t>(starts.size());
  search.max_restarts = 8;
  search.min_gain = 1e-10;
  search.quiet_restarts = 1;
  const auto best = nelder_mead_best_of(objective, starts, search);
  evaluations += best.evaluations;
  if (!std::isfinite(best.value)) return failure ? *failure : make_error(Errc::kInternal, "calibrate: no finite fit");
  Fit out{base_stack, base_power, best.value};
  apply(figs, best.x, out.stack, out.power);
  return out;
}

}  // namespace

Result<std::vector<ServingCase>> serving_cases(const std::vector<ServingMeasurement>& rows,
                                               const hardware::HardwareRegistry& registry, const SoftwareStack& stack,
                                               const PowerModel& power, double assumed_input_tokens,
                                               const std::string& origin) {
  if (!(assumed_input_tokens > 0.0))
    return make_error(Errc::kInvalidArgument, "the assumed prompt length must be positive");
  std::vector<ServingCase> out;
  for (const auto& m : rows) {
    auto c = measurement_config(m, registry, stack, power, origin);
    if (!c) return c.error();
    out.push_back({m, std::move(*c), m.mean_input_tokens.value_or(assumed_input_tokens)});
  }
  return out;
}

std::vector<FittedFigure> serving_fit_figures() {
  std::vector<FittedFigure> out;
  for (const auto& f : figures()) out.push_back(f.f);
  return out;
}

Result<std::vector<ServingComparison>> compare_serving(const std::vector<ServingCase>& cases,
                                                       const SoftwareStack& stack, const PowerModel& power,
                                                       const std::string& origin) {
  std::vector<ServingComparison> out;
  for (const auto& c : cases) {
    auto r = compare_one(c, stack, power, origin);
    if (!r) return r.error();
    out.push_back(std::move(*r));
  }
  return out;
}

ServingErrors summarize(const std::vector<ServingComparison>& rows) {
  std::vector<double> pw, jt, jr, itl, tp;
  for (const auto& r : rows) {
    if (r.power_err) pw.push_back(std::abs(*r.power_err));
    if (r.j_per_token_err) jt.push_back(std::abs(*r.j_per_token_err));
    if (r.j_per_request_err) jr.push_back(std::abs(*r.j_per_request_err));
    if (r.itl_err) itl.push_back(std::abs(*r.itl_err));
    if (r.throughput_err) tp.push_back(std::abs(*r.throughput_err));
  }
  return {summary_of(pw), summary_of(jt), summary_of(jr), summary_of(itl), summary_of(tp)};
}

Result<ServingFitResult> fit_serving(const std::vector<ServingCase>& cases, const SoftwareStack& base_stack,
                                     const PowerModel& base_power, const std::string& origin,
                                     const ServingFitOptions& options) {
  // Every row must run under the base figures (a row that cannot fit memory is the
  // file's error, not the fit's).
  if (auto r = compare_serving(cases, base_stack, base_power, origin); !r) return r.error();
  if (cases.size() < 3)
    return make_error(Errc::kInvalidArgument,
                      fmt::format("{}: {} measurement rows; at least 3 are needed to fit {} figures and check them",
                                  origin, cases.size(), figures().size()));
  ServingFitResult out;
  auto all = fit_once(cases, cases.size(), base_stack, base_power, origin, options.max_evaluations, out.evaluations);
  if (!all) return all.error();
  out.stack = all->stack;
  out.power = all->power;
  out.objective = all->objective;
  for (const auto& f : figures()) {
    FittedFigure v = f.f;
    v.value = f.slot.stack ? out.stack.*(f.slot.stack) : out.power.*(f.slot.power);
    out.figures.push_back(v);
  }
  auto train = compare_serving(cases, out.stack, out.power, origin);
  if (!train) return train.error();
  out.train = std::move(*train);
  out.train_errors = summarize(out.train);
  if (options.leave_one_out) {
    for (std::size_t k = 0; k < cases.size(); ++k) {
      auto fit = fit_once(cases, k, base_stack, base_power, origin, options.max_evaluations, out.evaluations);
      if (!fit) return fit.error();
      auto r = compare_one(cases[k], fit->stack, fit->power, origin);
      if (!r) return r.error();
      out.held.push_back(std::move(*r));
    }
    out.held_errors = summarize(out.held);
  }
  return out;
}

}  // namespace jouleperf::sim
