// A study configuration's decoding settings: parsed, checked one by one and against the
// configuration's strategy and engine.
#include "jouleperf/study/decoding_settings.hpp"

#include <fmt/format.h>

#include "jouleperf/core/text.hpp"

namespace jouleperf::study {

namespace {

constexpr std::uint64_t kMaxDraftTokens = 64;
constexpr std::uint64_t kMaxBeamWidth = 64;

Error bad(std::string msg) { return make_error(Errc::kInvalidArgument, std::move(msg)); }

Result<std::uint32_t> whole(std::string_view key, std::string_view value, std::uint64_t max) {
  auto v = parse_u64(trim(value));
  if (!v || *v < 1 || *v > max)
    return bad(fmt::format("setting {}: \"{}\" is not a whole number from 1 to {}", key, value, max));
  return static_cast<std::uint32_t>(*v);
}

Result<double> rate(std::string_view key, std::string_view value) {
  auto v = parse_double(trim(value));
  if (!v || !(*v >= 0.0 && *v <= 1.0))
    return bad(fmt::format("setting {}: \"{}\" is not a probability in [0, 1]", key, value));
  return *v;
}

}  // namespace

bool is_decoding_setting(std::string_view key) {
  return key == "draft_model" || key == "draft_tokens" || key == "accept_rate" || key == "beam_width";
}

Status check_decoding_setting(std::string_view key, std::string_view value) {
  if (key == "draft_model" && trim(value).empty()) return bad("setting draft_model: empty (a model path or name)");
  if (key == "draft_tokens")
    if (auto v = whole(key, value, kMaxDraftTokens); !v) return v.error();
  if (key == "beam_width")
    if (auto v = whole(key, value, kMaxBeamWidth); !v) return v.error();
  if (key == "accept_rate")
    if (auto v = rate(key, value); !v) return v.error();
  return {};
}

Result<DecodingSettings> decoding_settings(const Config& c) {
  DecodingSettings d;
  for (const auto& [k, v] : c.settings)
    if (auto st = check_decoding_setting(k, v); !st) return st.error();
  const bool speculative = c.strategy == "speculative";
  const bool beam = c.strategy == "beam";
  for (const char* k : {"draft_model", "draft_tokens", "accept_rate"})
    if (c.setting(k) && !speculative)
      return bad(fmt::format("setting {} applies to strategy speculative only (strategy is {})", k, c.strategy));
  if (c.setting("beam_width") && !beam)
    return bad(fmt::format("setting beam_width applies to strategy beam only (strategy is {})", c.strategy));
  if (auto v = c.setting("draft_model")) d.draft_model = std::string(trim(*v));
  if (auto v = c.setting("draft_tokens")) d.draft_tokens = *whole("draft_tokens", *v, kMaxDraftTokens);
  if (auto v = c.setting("beam_width")) d.beam_width = *whole("beam_width", *v, kMaxBeamWidth);
  if (auto v = c.setting("accept_rate")) d.accept_rate = *rate("accept_rate", *v);
  if (speculative && d.draft_model.empty() && (c.engine == "llamacpp" || c.engine == "sim"))
    return bad(fmt::format("strategy speculative needs the setting draft_model ({})",
                           c.engine == "sim" ? "an architecture such as Llama-3.2-1B, or a .gguf path"
                                             : "a GGUF path sharing the model's vocabulary"));
  if (speculative && c.engine == "sim" && !d.accept_rate)
    return bad(
        "engine sim with strategy speculative needs the setting accept_rate (a simulation has no draft "
        "to verify: it prices the acceptance rate it is given)");
  return d;
}

}  // namespace jouleperf::study
