// Reading optional fields of a stored document (an artifact body): an absent field (or
// null) is "not present"; a field of the wrong type is an error naming the document and
// the field. Internal to src/report.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "jouleperf/core/result.hpp"
#include "jouleperf/report/table.hpp"

namespace jouleperf::report::detail {

class Fields {
 public:
  // `where` names the document: "artifact estimate/azure-conv-2023, configs[2]".
  Fields(const nlohmann::json& j, std::string where) : j_(j), where_(std::move(where)) {}

  // `path` is one key or keys joined by '/': "latency_s/e2e/p50".
  std::optional<double> number(std::string_view path);
  std::optional<std::string> text(std::string_view path);
  std::optional<bool> boolean(std::string_view path);
  // An array at `path`; nullptr when absent (an error when present and not an array).
  const nlohmann::json* array(std::string_view path);

  // The same, as table values (empty when absent).
  Value number_value(std::string_view path) { return as_value(number(path)); }
  Value text_value(std::string_view path) { return as_value(text(path)); }
  Value bool_value(std::string_view path) { return as_value(boolean(path)); }

  const std::string& where() const { return where_; }
  // The first type error met, if any.
  Status status() const;

 private:
  template <class T>
  static Value as_value(const std::optional<T>& v) {
    if (!v) return Value{};
    return Value{*v};
  }
  const nlohmann::json* find(std::string_view path) const;
  void fail(std::string_view path, const char* want, const nlohmann::json& got);

  const nlohmann::json& j_;
  std::string where_;
  std::optional<Error> error_;
};

}  // namespace jouleperf::report::detail
