#include "jouleperf/engine/engine.hpp"

#include <fmt/format.h>

namespace jouleperf {

Result<DecodeStrategy> parse_strategy(std::string_view s) {
  if (s == "greedy") return DecodeStrategy::kGreedy;
  if (s == "sample") return DecodeStrategy::kSample;
  if (s == "beam") return DecodeStrategy::kBeam;
  if (s == "speculative") return DecodeStrategy::kSpeculative;
  return make_error(Errc::kInvalidArgument,
                    fmt::format("strategy '{}': expected greedy, sample, beam or speculative", s));
}

std::string_view strategy_name(DecodeStrategy s) {
  switch (s) {
    case DecodeStrategy::kSample: return "sample";
    case DecodeStrategy::kBeam: return "beam";
    case DecodeStrategy::kSpeculative: return "speculative";
    case DecodeStrategy::kGreedy: break;
  }
  return "greedy";
}

Result<BatchingMode> parse_batching(std::string_view s) {
  if (s == "static") return BatchingMode::kStatic;
  if (s == "continuous") return BatchingMode::kContinuous;
  return make_error(Errc::kInvalidArgument, fmt::format("batching '{}': expected static or continuous", s));
}

std::string_view batching_name(BatchingMode m) { return m == BatchingMode::kContinuous ? "continuous" : "static"; }

}  // namespace jouleperf
