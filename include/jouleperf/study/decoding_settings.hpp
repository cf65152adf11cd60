// The decoding settings a study configuration carries in Config::settings, beside its
// strategy: draft_model, draft_tokens (gamma), accept_rate (alpha) for speculative
// decoding, beam_width for beam search. Being settings, they are part of Config::key(),
// so configs that differ in any of them are different configs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "jouleperf/core/result.hpp"
#include "jouleperf/record/cell.hpp"

namespace jouleperf::study {

struct DecodingSettings {
  std::string draft_model;            // speculative: GGUF path (llamacpp), architecture or .gguf (sim)
  std::uint32_t draft_tokens = 4;     // speculative: gamma, tokens the draft proposes per step
  std::optional<double> accept_rate;  // speculative: alpha, forced acceptance; unset = real verification
  std::uint32_t beam_width = 4;       // beam: W, beams per sequence
};

// True for draft_model, draft_tokens, accept_rate and beam_width.
bool is_decoding_setting(std::string_view key);

// Checks one decoding setting's value alone: draft_model non-empty, draft_tokens a whole
// number in [1, 64], accept_rate a number in [0, 1], beam_width a whole number in [1, 64].
// kInvalidArgument whose message names the setting; ok for any other key.
Status check_decoding_setting(std::string_view key, std::string_view value);

// A configuration's decoding settings, checked against its strategy and engine: draft
// settings only with strategy speculative, beam_width only with strategy beam; strategy
// speculative needs draft_model (engines llamacpp and sim) and, on engine sim, accept_rate
// (a simulation has no draft to verify). kInvalidArgument naming the setting otherwise
// (the caller adds the config's name or the file and line).
Result<DecodingSettings> decoding_settings(const Config& config);

}  // namespace jouleperf::study
