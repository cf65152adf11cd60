// Synthetic prompts: exactly I token ids drawn from a seed, one independent stream per
// sequence, so a batch is reproducible and its sequences differ.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace jouleperf {

// `length` token ids drawn uniformly from `allowed` (must not be empty), from the stream
// of (seed, sequence). With `first`, the prompt starts with that token (e.g. BOS) and
// length - 1 drawn ones follow; the result always has exactly `length` tokens.
std::vector<std::int32_t> random_prompt(const std::vector<std::int32_t>& allowed, std::uint64_t length,
                                        std::uint64_t seed, std::uint64_t sequence,
                                        std::optional<std::int32_t> first = std::nullopt);

}  // namespace jouleperf
