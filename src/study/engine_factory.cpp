// Opens the engine a study configuration names, from its fields and settings.
#include <fmt/format.h>

#include <cmath>
#include <filesystem>

#include "jouleperf/core/text.hpp"
#include "jouleperf/engine/llama_settings.hpp"
#include "jouleperf/engine/llamacpp.hpp"
#include "jouleperf/engine/openai.hpp"
#include "jouleperf/engine/prompt.hpp"
#include "jouleperf/engine/sim_engine.hpp"
#include "jouleperf/model/info.hpp"
#include "jouleperf/study/config_check.hpp"
#include "jouleperf/study/decoding_settings.hpp"
#include "jouleperf/study/machine_settings.hpp"
#include "jouleperf/study/sweep.hpp"

namespace jouleperf::study {

namespace {

Error bad(const Config& c, const std::string& what) {
  return make_error(Errc::kInvalidArgument, fmt::format("config \"{}\": {}", c.name, what));
}

// Settings this engine understands; any other is an error (a typo must not pass silently).
Status check_settings(const Config& c, const std::vector<std::string_view>& known) {
  for (const auto& [k, v] : c.settings) {
    bool ok = k == "batches";  // the study's, not the engine's (grid.hpp)
    for (auto n : known) ok = ok || k == n;
    if (!ok) {
      std::string list;
      for (auto n : known) list += (list.empty() ? "" : ", ") + std::string(n);
      return bad(c, fmt::format("setting \"{}\" is not one the {} engine takes ({})", k, c.engine, list));
    }
  }
  return {};
}

Result<std::uint64_t> setting_u64(const Config& c, std::string_view name, std::uint64_t dflt) {
  auto s = c.setting(name);
  if (!s) return dflt;
  auto v = parse_u64(*s);
  if (!v) return bad(c, fmt::format("setting {}: \"{}\" is not a whole number", name, *s));
  return *v;
}

Result<std::optional<double>> setting_number(const Config& c, std::string_view name) {
  auto s = c.setting(name);
  if (!s) return std::optional<double>{};
  auto v = parse_double(*s);
  if (!v) return bad(c, fmt::format("setting {}: \"{}\" is not a number", name, *s));
  return std::optional<double>{*v};
}

// Real prompt text from the settings prompt (the text) or prompts (a file; prompts_field
// names its JSON Lines field); unset when neither is given.
Result<std::optional<PromptTexts>> prompt_setting(const Config& c) {
  const auto text = c.setting("prompt");
  const auto file = c.setting("prompts");
  const auto field = c.setting("prompts_field");
  if (text && file) return bad(c, "settings prompt and prompts exclude each other");
  if (field && !file) return bad(c, "setting prompts_field needs the setting prompts (a file)");
  if (text) {
    auto p = prompt_from_text(*text);
    if (!p) return bad(c, "setting prompt: " + p.error().message);
    return std::optional<PromptTexts>(std::move(*p));
  }
  if (file) {
    auto p = load_prompt_file(*file, field.value_or("prompt"));
    if (!p) return make_error(p.error().code, fmt::format("config \"{}\": prompts: {}", c.name, p.error().message));
    return std::optional<PromptTexts>(std::move(*p));
  }
  return std::optional<PromptTexts>();
}

// The llama.cpp engine's configuration from a study config: every setting checked; the only
// file read is a prompts file (setting prompts), so a bad one is refused before any store.
// The settings themselves are read as `run` and `replay` read their flags (llama_settings.hpp).
Result<LlamaEngineConfig> llamacpp_config(const Config& c) {
  std::vector<std::string_view> known = llama_setting_keys();
  for (std::string_view k : {"draft_tokens", "accept_rate", "beam_width", "prompt", "prompts", "prompts_field"})
    known.push_back(k);
  for (std::string_view k : machine_setting_keys()) known.push_back(k);  // applied by the sweep, not the engine
  if (auto st = check_settings(c, known); !st) return st.error();
  auto prompts = prompt_setting(c);
  if (!prompts) return prompts.error();
  auto decoding = decoding_settings(c);
  if (!decoding) return bad(c, decoding.error().message);
  auto settings = llama_settings_from_keys([&c](std::string_view k) { return c.setting(k); }, c.threads);
  if (!settings) return bad(c, settings.error().message);
  settings->draft = decoding->draft_model;
  auto lc = llama_engine_config(c.model, *settings, std::move(*prompts));
  if (!lc) return bad(c, lc.error().message);
  return lc;
}

Result<std::unique_ptr<Engine>> open_llamacpp(const Config& c) {
  auto lc = llamacpp_config(c);
  if (!lc) return lc.error();
  if (!c.weight_type.empty()) {
    auto info = read_gguf_info(c.model);
    if (!info) return make_error(info.error().code, fmt::format("config \"{}\": {}", c.name, info.error().message));
    if (info->weight_type != c.weight_type)
      return bad(c, fmt::format("weight_type {} but {} stores {}", c.weight_type, c.model, info->weight_type));
  }
  auto e = open_llamacpp_engine(*lc);
  if (!e) return make_error(e.error().code, fmt::format("config \"{}\": {}", c.name, e.error().message));
  return e;
}

// The simulator's precision from a weight type: q8_0 -> int8, q4_0 -> int4, f16 -> bf16.
std::string sim_precision(const Config& c) {
  if (auto p = c.setting("precision")) return *p;
  const std::string& w = c.weight_type;
  if (w.empty() || w == "f16" || w == "bf16" || w == "f32") return "bf16";
  if (w == "q8_0") return "int8";
  if (w == "q4_0") return "int4";
  return w;
}

// The simulator's configuration from a study config: every setting checked.
Result<SimEngineConfig> sim_config(const Config& c) {
  if (auto st = check_settings(
          c, {"hardware", "stack", "precision", "tp", "profiles", "draft_model", "draft_tokens", "accept_rate",
              "beam_width", "gpu_power_limit_w", "gpu_locked_clocks_mhz", "gpu_clock_ratio"});
      !st)
    return st.error();
  auto decoding = decoding_settings(c);
  if (!decoding) return bad(c, decoding.error().message);
  // The simulator's own limit (sim::validate_config); refused here rather than per cell.
  if (decoding->draft_tokens > 16) return bad(c, "setting draft_tokens: the simulator models at most 16");
  SimEngineConfig sc;
  if (auto v = c.setting("hardware")) sc.hardware = *v;
  if (auto v = c.setting("stack")) sc.stack = *v;
  if (!c.model.empty()) sc.model = c.model;
  sc.precision = sim_precision(c);
  auto tp = setting_u64(c, "tp", 1);
  if (!tp) return tp.error();
  if (*tp == 0 || *tp > 1024) return bad(c, "setting tp must be between 1 and 1024");
  sc.tp = static_cast<std::uint32_t>(*tp);
  // Clocks and power limits (docs/simulator.md, "Clocks and power caps"), checked against the profile on open.
  for (const auto& [name, field] : {std::pair{"gpu_power_limit_w", &sc.gpu_power_limit_w},
                                    std::pair{"gpu_locked_clocks_mhz", &sc.gpu_locked_clock_mhz},
                                    std::pair{"gpu_clock_ratio", &sc.gpu_clock_ratio}}) {
    auto v = setting_number(c, name);
    if (!v) return v.error();
    *field = *v;
  }
  return sc;
}

Result<std::unique_ptr<Engine>> open_sim(const Config& c) {
  auto sc = sim_config(c);
  if (!sc) return sc.error();
  auto decoding = decoding_settings(c);
  if (!decoding) return bad(c, decoding.error().message);
  hardware::HardwareRegistry registry;
  if (auto p = c.setting("profiles")) {
    if (auto st = registry.load_file(*p); !st)
      return make_error(st.error().code, fmt::format("config \"{}\": profiles: {}", c.name, st.error().message));
  }
  auto e = open_sim_engine(*sc, registry, decoding->draft_model);
  if (!e) return make_error(e.error().code, fmt::format("config \"{}\": {}", c.name, e.error().message));
  return e;
}

// The OpenAI-compatible engine's configuration from a study config, without its API key.
Result<OpenAiConfig> openai_config(const Config& c) {
  if (auto st = check_settings(c, {"url", "api", "timeout_s", "request_deadline_s", "api_key_env", "http2",
                                   "cpu_max_freq_khz", "cpu_governor", "cpu_power_limit_w"});
      !st)
    return st.error();
  OpenAiConfig oc;
  auto url = c.setting("url");
  if (!url || url->empty()) return bad(c, "engine openai needs the setting url (e.g. http://127.0.0.1:8080)");
  oc.url = *url;
  oc.model = c.model;
  if (auto a = c.setting("api")) {
    auto api = parse_openai_api(*a);
    if (!api) return bad(c, api.error().message);
    oc.api = *api;
  }
  if (auto t = c.setting("timeout_s")) {
    auto v = parse_double(*t);
    if (!v || !(*v > 0)) return bad(c, fmt::format("setting timeout_s: \"{}\" is not a positive number", *t));
    oc.timeout_s = *v;
  }
  if (auto t = c.setting("request_deadline_s")) {
    auto v = parse_double(*t);
    if (!v || !(*v > 0) || !std::isfinite(*v))
      return bad(c, fmt::format("setting request_deadline_s: \"{}\" is not a positive number", *t));
    oc.request_deadline_s = *v;
  }
  if (auto h = c.setting("http2")) {
    if (*h != "true" && *h != "false") return bad(c, "setting http2: expected true or false");
    oc.http2 = *h == "true";
  }
  return oc;
}

Result<std::unique_ptr<Engine>> open_openai(const Config& c) {
  auto cfg = openai_config(c);
  if (!cfg) return cfg.error();
  OpenAiConfig oc = std::move(*cfg);
  auto key = load_api_key(c.setting("api_key_env").value_or("OPENAI_API_KEY"), "");
  if (!key) return make_error(key.error().code, fmt::format("config \"{}\": API key: {}", c.name, key.error().message));
  oc.api_key = std::move(*key);
  auto e = OpenAiEngine::open(std::move(oc));
  if (!e) return make_error(e.error().code, fmt::format("config \"{}\": {}", c.name, e.error().message));
  return std::unique_ptr<Engine>(std::move(*e));
}

}  // namespace

Status check_engine_config(const Config& config) {
  Status st;
  if (config.engine == "llamacpp") {
    if (auto r = llamacpp_config(config); !r) st = r.error();
  } else if (config.engine == "sim") {
    if (auto r = sim_config(config); !r) st = r.error();
  } else if (config.engine == "openai") {
    if (auto r = openai_config(config); !r) st = r.error();
  } else {
    st = bad(config, fmt::format("engine \"{}\": expected llamacpp, sim or openai", config.engine));
  }
  return st;
}

std::vector<std::string> config_notes(const Config& config) {
  std::vector<std::string> notes, out;
  if (config.engine != "llamacpp") return out;
  (void)llama_settings_from_keys([&config](std::string_view k) { return config.setting(k); }, config.threads, &notes);
  for (const auto& n : notes) out.push_back(fmt::format("config \"{}\": {}", config.name, n));
  return out;
}

void make_model_paths_absolute(Config& config) {
  if (config.engine != "llamacpp") return;
  auto absolute = [](const std::string& p) {
    if (p.empty()) return p;
    std::error_code ec;
    auto abs = std::filesystem::weakly_canonical(std::filesystem::absolute(p, ec), ec);
    return ec ? p : abs.string();
  };
  config.model = absolute(config.model);
  for (auto& [k, v] : config.settings)
    if (k == "draft_model") v = absolute(v);
}

Status prepare_study(Study& study) {
  for (auto& c : study.configs) {
    if (auto st = check_engine_config(c); !st) return st;
    make_model_paths_absolute(c);
  }
  return {};
}

Result<std::unique_ptr<Engine>> open_engine(const Config& config) {
  if (config.engine == "llamacpp") return open_llamacpp(config);
  if (config.engine == "sim") return open_sim(config);
  if (config.engine == "openai") return open_openai(config);
  return bad(config, fmt::format("engine \"{}\": expected llamacpp, sim or openai", config.engine));
}

}  // namespace jouleperf::study
