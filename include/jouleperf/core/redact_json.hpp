// URL credentials redacted inside a JSON document (redact_urls_in on every string).
#pragma once

#include <nlohmann/json.hpp>

namespace jouleperf {

// `j` with redact_urls_in (core/text.hpp) applied to every string value, at any depth;
// keys, numbers and structure unchanged. Never fails.
nlohmann::json redact_urls_in_json(const nlohmann::json& j);

}  // namespace jouleperf
