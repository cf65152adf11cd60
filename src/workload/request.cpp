#include "jouleperf/workload/request.hpp"

#include <string>

namespace jouleperf::workload {

namespace {
bool key_char_dropped(char c) { return c == ' ' || c == '_' || c == '-' || c == '\t'; }
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// normalize_key(a) == normalize_key(b) without allocating.
bool same_key(std::string_view a, std::string_view b) {
  std::size_t i = 0, j = 0;
  for (;;) {
    while (i < a.size() && key_char_dropped(a[i])) ++i;
    while (j < b.size() && key_char_dropped(b[j])) ++j;
    if (i == a.size() || j == b.size()) return i == a.size() && j == b.size();
    if (lower(a[i]) != lower(b[j])) return false;
    ++i;
    ++j;
  }
}
}  // namespace

std::string normalize_key(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  for (char c : key)
    if (!key_char_dropped(c)) out.push_back(lower(c));
  return out;
}

std::optional<std::string_view> find_tag(const Request& request, std::string_view key) {
  for (const Tag& t : request.tags)
    if (same_key(t.key, key)) return t.value;
  return std::nullopt;
}

}  // namespace jouleperf::workload
