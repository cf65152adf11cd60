#include "jouleperf/engine/engine.hpp"

#include <fmt/format.h>

namespace jouleperf {

Result<DecodeStrategy> parse_strategy(std::string_view s) {
  if (s == "greedy") return DecodeStrategy::kGreedy;
  if (s == "sample") return DecodeStrategy::kSample;
  if (s == "beam" || s == "speculative")
    return make_error(Errc::kUnsupported, fmt::format("strategy '{}' is not implemented yet (greedy, sample are)", s));
  return make_error(Errc::kInvalidArgument, fmt::format("strategy '{}': expected greedy or sample", s));
}

std::string_view strategy_name(DecodeStrategy s) { return s == DecodeStrategy::kSample ? "sample" : "greedy"; }

Result<BatchingMode> parse_batching(std::string_view s) {
  if (s == "static") return BatchingMode::kStatic;
  if (s == "continuous") return BatchingMode::kContinuous;
  return make_error(Errc::kInvalidArgument, fmt::format("batching '{}': expected static or continuous", s));
}

std::string_view batching_name(BatchingMode m) { return m == BatchingMode::kContinuous ? "continuous" : "static"; }

}  // namespace jouleperf
