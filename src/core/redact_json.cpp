#include "jouleperf/core/redact_json.hpp"

#include <string>

#include "jouleperf/core/safe_text.hpp"

namespace jouleperf {

nlohmann::json redact_urls_in_json(const nlohmann::json& j) {
  if (j.is_string()) {
    const auto& s = j.get_ref<const std::string&>();
    if (s.find("://") == std::string::npos) return j;
    return redact_urls_in(s);
  }
  if (j.is_array() || j.is_object()) {
    nlohmann::json out = j;
    for (auto& v : out) v = redact_urls_in_json(v);
    return out;
  }
  return j;
}

}  // namespace jouleperf
