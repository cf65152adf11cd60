// --prompt TEXT, --prompts FILE and --prompts-field NAME: real prompt text for the
// in-process llamacpp engine (`run`, `replay`, `sweep`), instead of random token ids.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/engine/prompt.hpp"

namespace jouleperf::cli {

struct PromptFlags {
  std::optional<std::string> prompt;  // --prompt TEXT
  std::string prompts_file;           // --prompts FILE
  std::string prompts_field = "prompt";
  bool given() const { return prompt.has_value() || !prompts_file.empty(); }
};

// Adds --prompt, --prompts (excluding each other) and --prompts-field to `cmd`.
void add_prompt_flags(CLI::App* cmd, PromptFlags& flags);

// The prompt texts the flags name: unset without --prompt / --prompts. Fails with
// kInvalidArgument for an empty --prompt, or load_prompt_file's errors (naming FILE:LINE).
Result<std::optional<PromptTexts>> load_prompt_flags(const PromptFlags& flags);

// Why `engine` cannot take the flags (empty when it can: llamacpp, or no flag given).
std::string prompt_flags_refusal(const PromptFlags& flags, const std::string& engine);

// The flags as study settings (prompt, prompts, prompts_field) for `sweep`'s one-config grid.
std::vector<std::pair<std::string, std::string>> prompt_settings(const PromptFlags& flags);

}  // namespace jouleperf::cli
