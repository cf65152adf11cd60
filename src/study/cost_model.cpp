#include "jouleperf/study/cost_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <vector>

#include "jouleperf/model/flops.hpp"
#include "jouleperf/study/store.hpp"

namespace jouleperf::study {

TokenCostModel flops_cost_model(const ModelInfo& info) {
  const RequestFlops one = request_flops(info, 1, 0, LogitsMode::kLast);
  const RequestFlops two = request_flops(info, 2, 0, LogitsMode::kLast);
  const RequestFlops dec = request_flops(info, 1, 2, LogitsMode::kLast);  // one decode forward
  // Causal attention: a 1-token prompt has 1 (query, key) pair, a 2-token one 3.
  const double pair = (two.prefill.attention - one.prefill.attention) / 2.0;
  TokenCostModel m;
  m.prefill_token = one.prefill.matmul + pair;
  m.prefill_context = pair;
  m.decode_token = dec.decode.matmul + dec.decode.logits;
  m.decode_context = pair;
  m.basis = fmt::format("FLOPs per token of {} (matmul, attention over the context, logits)", info.arch.name);
  return m;
}

namespace {

struct Point {
  double x1, x2, y;
};

struct Fit {
  double a = 0, b = 0;  // y ≈ a x1 + b x2
  bool ok = false;
};

// Least squares of y on (x1, x2) without intercept, a and b >= 0: the full fit where both
// come out >= 0, else the better of the one-term fits.
Fit fit_nonneg(const std::vector<Point>& pts) {
  double s11 = 0, s12 = 0, s22 = 0, s1y = 0, s2y = 0;
  for (const auto& p : pts) {
    s11 += p.x1 * p.x1;
    s12 += p.x1 * p.x2;
    s22 += p.x2 * p.x2;
    s1y += p.x1 * p.y;
    s2y += p.x2 * p.y;
  }
  const double det = s11 * s22 - s12 * s12;
  if (det > 1e-12 * s11 * s22) {
    const double a = (s1y * s22 - s2y * s12) / det, b = (s2y * s11 - s1y * s12) / det;
    if (a >= 0 && b >= 0) return {a, b, a > 0 || b > 0};
  }
  // The per-token term alone where it is positive (a token without context must cost
  // something); the context term alone only where the per-token one cannot be.
  const double a_only = s11 > 0 ? std::max(0.0, s1y / s11) : 0.0;
  if (a_only > 0) return {a_only, 0, true};
  const double b_only = s22 > 0 ? std::max(0.0, s2y / s22) : 0.0;
  return {0, b_only, b_only > 0};
}

}  // namespace

Result<TokenCostModel> fit_cost_model(std::span<const CellResult> cells, const std::string& source) {
  std::vector<Point> pre, dec;
  std::size_t used = 0;
  std::set<std::string> configs;
  for (const auto& c : cells)
    if (c.status == CellStatus::kDone) configs.insert(c.key.config);
  if (configs.size() > 1) {
    std::string names;
    for (const auto& n : configs) names += (names.empty() ? "" : ", ") + n;
    return make_error(Errc::kInvalidArgument,
                      fmt::format("cost model from {}: its cells are of {} configurations ({}); name the one that "
                                  "was served as STORE.db:CONFIG",
                                  source, configs.size(), names));
  }
  for (const auto& c : cells) {
    if (c.status != CellStatus::kDone || c.key.batch == 0 || c.key.output_tokens < 2) continue;
    const double in = static_cast<double>(c.key.input_tokens), gen = static_cast<double>(c.key.output_tokens) - 1.0;
    const double b = static_cast<double>(c.key.batch);
    bool any = false;
    for (const auto& r : c.reps) {
      if (!r.prefill_energy_j || !r.decode_energy_j) continue;
      pre.push_back({in, in * (in - 1.0) / 2.0, *r.prefill_energy_j / b});
      dec.push_back({gen, gen * in + gen * (gen + 1.0) / 2.0, *r.decode_energy_j / b});
      any = true;
    }
    used += any ? 1 : 0;
  }
  if (pre.empty())
    return make_error(Errc::kInvalidArgument,
                      fmt::format("cost model from {}: no measured cell has prefill and decode energies (a done "
                                  "cell with O >= 2)",
                                  source));
  const Fit p = fit_nonneg(pre), d = fit_nonneg(dec);
  if (!p.ok || !d.ok)
    return make_error(Errc::kInvalidArgument,
                      fmt::format("cost model from {}: the {} cells give no positive cost per {} token", source, used,
                                  p.ok ? "generated" : "prompt"));
  TokenCostModel m;
  m.prefill_token = p.a;
  m.prefill_context = p.b;
  m.decode_token = d.a;
  m.decode_context = d.b;
  m.basis = fmt::format(
      "fitted from {} cells of {} (J per prompt token {:.3g} + {:.3g}/context token, per generated "
      "token {:.3g} + {:.3g}/context token)",
      used, source, p.a, p.b, d.a, d.b);
  return m;
}

Result<TokenCostModel> choose_cost_model(const std::string& choice, const std::optional<ModelInfo>& model) {
  if (choice.empty()) return model ? flops_cost_model(*model) : TokenCostModel{};
  if (choice == "equal") return TokenCostModel{};
  if (choice == "flops") {
    if (!model)
      return make_error(Errc::kInvalidArgument,
                        "--cost-model flops needs the model's architecture: a GGUF file (--engine llamacpp) or a "
                        "built-in model name as --model (jouleperf model list)");
    return flops_cost_model(*model);
  }
  // STORE.db, or STORE.db:CONFIG for the cells of one configuration.
  std::string path = choice, config;
  if (const auto colon = choice.rfind(':'); colon != std::string::npos && !std::filesystem::exists(choice)) {
    path = choice.substr(0, colon);
    config = choice.substr(colon + 1);
  }
  auto store = Store::open(path, StoreMode::kReadOnly);
  if (!store)
    return make_error(store.error().code,
                      "--cost-model: not equal, flops or a results store: " + store.error().message);
  auto cells = store->cells();
  if (!cells) return cells.error();
  if (config.empty()) return fit_cost_model(*cells, path);
  std::vector<CellResult> mine;
  for (auto& c : *cells)
    if (c.key.config == config) mine.push_back(std::move(c));
  if (mine.empty())
    return make_error(Errc::kNotFound,
                      fmt::format("--cost-model: {} has no cells of configuration '{}'", path, config));
  return fit_cost_model(mine, path + ":" + config);
}

}  // namespace jouleperf::study
