// Per-token cost models for energy per request (engine/attribution.hpp, TokenCostModel):
// from a model's FLOPs (docs/method.md's formula: what a step's roofline is made of), or
// fitted from a study's measured cells.
#pragma once

#include <optional>
#include <span>
#include <string>

#include "jouleperf/core/result.hpp"
#include "jouleperf/engine/attribution.hpp"
#include "jouleperf/model/info.hpp"
#include "jouleperf/record/cell.hpp"

namespace jouleperf::study {

// A token's FLOPs as its cost: a prompt token at position c costs 2 x active parameters
// plus attention over its c + 1 keys; a generated token at context c (the keys it
// attends to: the prompt and the tokens generated before it) 2 x active parameters, its
// logits (2 x vocab x dim) and attention over c keys. Units FLOPs; only the ratios
// matter to the split. Never fails.
TokenCostModel flops_cost_model(const ModelInfo& info);

// Fitted from a study's measured cells (docs/serving.md, "The cost model"): each
// repetition's prefill energy per request, E_p / B = prefill_token·I + prefill_context·I(I−1)/2,
// and decode energy per request, E_d / B = Σ_{k=1}^{O−1} (decode_token + decode_context·(I+k)),
// by least squares with the figures kept >= 0 (where both terms cannot be, the per-token
// term alone, or the context term alone if that is all that comes out positive). Units
// J; `source` names the store in the basis. kInvalidArgument when the done cells are of
// more than one configuration (the ratio of prompt to generated cost is a property of
// one), when none has both phases' energies (O >= 2), or when a fit gives no positive cost.
Result<TokenCostModel> fit_cost_model(std::span<const CellResult> cells, const std::string& source);

// `replay --cost-model`: "" (automatic: FLOPs of `model` where known, else equal cost per
// token), "equal", "flops" (kInvalidArgument without `model`), or a results store's path,
// STORE.db or STORE.db:CONFIG (fit_cost_model over its cells, or those of CONFIG: kNotFound
// when it has none; fails as Store::open, cells() and the fit fail).
Result<TokenCostModel> choose_cost_model(const std::string& choice, const std::optional<ModelInfo>& model);

}  // namespace jouleperf::study
