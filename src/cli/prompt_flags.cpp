#include "prompt_flags.hpp"

#include <fmt/format.h>

namespace jouleperf::cli {

void add_prompt_flags(CLI::App* cmd, PromptFlags& flags) {
  auto* one = cmd->add_option("--prompt", flags.prompt,
                              "llamacpp: real prompt text instead of random token ids (tokenized by the model; "
                              "without --input, I is its token count)");
  auto* file = cmd->add_option("--prompts", flags.prompts_file,
                               "llamacpp: file of real prompts, one per line or JSON Lines (see --prompts-field); "
                               "sequence s takes prompt s mod n, cut or extended to exactly I tokens");
  one->excludes(file);
  file->excludes(one);
  cmd->add_option("--prompts-field", flags.prompts_field, "--prompts JSON Lines: the field holding the prompt text")
      ->capture_default_str();
}

Result<std::optional<PromptTexts>> load_prompt_flags(const PromptFlags& flags) {
  if (flags.prompt) {
    auto p = prompt_from_text(*flags.prompt);
    if (!p) return make_error(p.error().code, "--prompt: " + p.error().message);
    return std::optional<PromptTexts>(std::move(*p));
  }
  if (!flags.prompts_file.empty()) {
    auto p = load_prompt_file(flags.prompts_file, flags.prompts_field);
    if (!p) return p.error();
    return std::optional<PromptTexts>(std::move(*p));
  }
  return std::optional<PromptTexts>();
}

std::string prompt_flags_refusal(const PromptFlags& flags, const std::string& engine) {
  if (!flags.given() || engine == "llamacpp") return {};
  if (engine == "openai")
    return "--prompt/--prompts feed real text to the in-process llamacpp engine only; the openai engine sends "
           "its own prompts (--prompt-mode ids or text)";
  return fmt::format("--prompt/--prompts feed real text to the in-process llamacpp engine only, not {}", engine);
}

std::vector<std::pair<std::string, std::string>> prompt_settings(const PromptFlags& flags) {
  std::vector<std::pair<std::string, std::string>> out;
  if (flags.prompt) out.emplace_back("prompt", *flags.prompt);
  if (!flags.prompts_file.empty()) {
    out.emplace_back("prompts", flags.prompts_file);
    out.emplace_back("prompts_field", flags.prompts_field);
  }
  return out;
}

}  // namespace jouleperf::cli
