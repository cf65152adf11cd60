// Prompt texts from the command line or a file (plain lines or JSON Lines).
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "jouleperf/core/text.hpp"
#include "jouleperf/engine/prompt.hpp"

namespace jouleperf {
namespace {

// True when `s` is well-formed UTF-8 (no overlong forms, surrogates or code points past
// U+10FFFF) without NUL bytes.
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == 0) return false;
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    const std::uint32_t least[] = {0, 0x80, 0x800, 0x10000};
    if (cp < least[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

Error bad_line(const std::string& path, std::uint64_t line, std::string_view why) {
  return make_error(Errc::kParse, fmt::format("{}:{}: {}", path, line, why));
}

}  // namespace

Result<PromptTexts> prompt_from_text(std::string text) {
  if (trim(text).empty()) return make_error(Errc::kInvalidArgument, "the prompt is empty");
  if (!valid_utf8(text)) return make_error(Errc::kInvalidArgument, "the prompt is not valid UTF-8");
  PromptTexts p;
  p.texts.push_back(std::move(text));
  p.lines.push_back(0);
  p.source = "text";
  return p;
}

Result<PromptTexts> load_prompt_file(const std::string& path, std::string_view field) {
  auto body = read_text_file(path);
  if (!body) return body.error();
  PromptTexts p;
  p.source = path;
  std::optional<bool> jsonl;  // decided by the first non-blank line
  std::uint64_t line_no = 0;
  std::size_t at = 0;
  const std::string& b = *body;
  while (at < b.size()) {
    std::size_t end = b.find('\n', at);
    if (end == std::string::npos) end = b.size();
    std::string_view line(b.data() + at, end - at);
    at = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (trim(line).empty()) continue;
    if (!valid_utf8(line)) return bad_line(path, line_no, "not valid UTF-8 text");
    if (!jsonl) jsonl = trim(line).front() == '{';
    if (!*jsonl) {
      p.texts.emplace_back(line);
      p.lines.push_back(line_no);
      continue;
    }
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object())
      return bad_line(path, line_no, "not a JSON object (the file is JSON Lines: its first line starts with '{')");
    const auto it = j.find(std::string(field));
    if (it == j.end()) return bad_line(path, line_no, fmt::format("no field \"{}\"", field));
    if (!it->is_string()) return bad_line(path, line_no, fmt::format("field \"{}\" is not a string", field));
    std::string text = it->get<std::string>();
    if (trim(text).empty()) return bad_line(path, line_no, fmt::format("field \"{}\" is empty", field));
    if (!valid_utf8(text)) return bad_line(path, line_no, fmt::format("field \"{}\" is not valid UTF-8", field));
    p.texts.push_back(std::move(text));
    p.lines.push_back(line_no);
  }
  p.file_lines = line_no;
  if (jsonl && *jsonl) p.field = std::string(field);
  if (p.texts.empty()) return make_error(Errc::kParse, fmt::format("{}: no prompt (every line is blank)", path));
  return p;
}

std::vector<std::pair<std::string, std::string>> prompt_source_settings(const PromptTexts* prompts) {
  if (prompts == nullptr) return {{"prompt_source", "random-ids"}};
  std::vector<std::pair<std::string, std::string>> out = {{"prompt_source", prompts->source},
                                                          {"prompts", std::to_string(prompts->texts.size())}};
  if (prompts->source != "text") out.emplace_back("prompts_file_lines", std::to_string(prompts->file_lines));
  if (!prompts->field.empty()) out.emplace_back("prompts_field", prompts->field);
  return out;
}

}  // namespace jouleperf
