#include "json_fields.hpp"

namespace jouleperf::report::detail {

const nlohmann::json* Fields::find(std::string_view path) const {
  const nlohmann::json* cur = &j_;
  while (!path.empty()) {
    const std::size_t slash = path.find('/');
    const std::string key(path.substr(0, slash));
    if (!cur->is_object()) return nullptr;
    const auto it = cur->find(key);
    if (it == cur->end()) return nullptr;
    cur = &*it;
    path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
  }
  return cur->is_null() ? nullptr : cur;
}

void Fields::fail(std::string_view path, const char* want, const nlohmann::json& got) {
  if (error_) return;
  error_ = make_error(Errc::kParse,
                      where_ + ": field '" + std::string(path) + "': expected " + want + ", got " + got.type_name());
}

std::optional<double> Fields::number(std::string_view path) {
  const nlohmann::json* v = find(path);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number()) {
    fail(path, "a number", *v);
    return std::nullopt;
  }
  return v->get<double>();
}

std::optional<std::string> Fields::text(std::string_view path) {
  const nlohmann::json* v = find(path);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) {
    fail(path, "a string", *v);
    return std::nullopt;
  }
  return v->get<std::string>();
}

std::optional<bool> Fields::boolean(std::string_view path) {
  const nlohmann::json* v = find(path);
  if (v == nullptr) return std::nullopt;
  if (!v->is_boolean()) {
    fail(path, "true or false", *v);
    return std::nullopt;
  }
  return v->get<bool>();
}

const nlohmann::json* Fields::array(std::string_view path) {
  const nlohmann::json* v = find(path);
  if (v == nullptr) return nullptr;
  if (!v->is_array()) {
    fail(path, "an array", *v);
    return nullptr;
  }
  return v;
}

Status Fields::status() const {
  if (error_) return *error_;
  return {};
}

}  // namespace jouleperf::report::detail
