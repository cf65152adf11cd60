// Prompts of exactly I tokens: synthetic ones (token ids drawn from a seed, one independent
// stream per sequence, so a batch is reproducible and its sequences differ), or real text
// read from a file or the command line, fitted to I tokens once tokenized (fit_prompt).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "jouleperf/core/result.hpp"

namespace jouleperf {

// `length` token ids drawn uniformly from `allowed` (must not be empty), from the stream
// of (seed, sequence). With `first`, the prompt starts with that token (e.g. BOS) and
// length - 1 drawn ones follow; the result always has exactly `length` tokens.
std::vector<std::int32_t> random_prompt(const std::vector<std::int32_t>& allowed, std::uint64_t length,
                                        std::uint64_t seed, std::uint64_t sequence,
                                        std::optional<std::int32_t> first = std::nullopt);

// ---- Real prompt text (the llamacpp engine's --prompt / --prompts) ----

// Prompt texts and where they came from, in order. `source` is "text" for a prompt given
// on the command line, else the file's path; `lines[k]` is the file line (1-based) of
// prompt k (0 for command-line text).
struct PromptTexts {
  std::vector<std::string> texts;  // never empty once loaded
  std::vector<std::uint64_t> lines;
  std::string source;
  std::string field;             // the JSONL field read ("" for plain lines or command-line text)
  std::uint64_t file_lines = 0;  // lines in the file, blank ones included (0 for text)
};

// One prompt given as text. kInvalidArgument when it is empty or blank.
Result<PromptTexts> prompt_from_text(std::string text);

// Reads a prompts file: one prompt per line, or JSON Lines (every line an object with a
// string field `field`) when the first non-blank line starts with '{'. Blank (whitespace-
// only) lines are skipped; a trailing '\r' is dropped. Fails with kNotFound /
// kPermissionDenied / kIo reading it, and kParse naming "FILE:LINE" for a line that is
// not valid UTF-8, not a JSON object, lacks `field` or holds an empty or non-string
// value, or for a file with no prompt at all.
Result<PromptTexts> load_prompt_file(const std::string& path, std::string_view field = "prompt");

// Where an engine's prompts come from, as engine settings recorded with every result:
// prompt_source ("random-ids", "text" or the file's path), and with real text prompts
// (how many), prompts_file_lines and prompts_field when from a file.
std::vector<std::pair<std::string, std::string>> prompt_source_settings(const PromptTexts* prompts);

// Sequence `sequence`'s prompt of exactly `length` tokens from the tokenized prompts
// `prompts` (none empty): `first` (e.g. BOS) when set, then prompt (offset + sequence) mod n,
// then, while short, `separator` and the following prompts in order, wrapping to the
// first; the result is cut to `length`. Empty when `length` is 0 or `prompts` is empty.
std::vector<std::int32_t> fit_prompt(const std::vector<std::vector<std::int32_t>>& prompts,
                                     const std::vector<std::int32_t>& separator, std::uint64_t offset,
                                     std::uint64_t sequence, std::uint64_t length,
                                     std::optional<std::int32_t> first = std::nullopt);

}  // namespace jouleperf
