#include "jouleperf/hardware/registry.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "jouleperf/core/text.hpp"
#include "jouleperf/hardware/profile_json.hpp"

namespace jouleperf::hardware {
namespace {

bool answers_to(const HardwareProfile& p, const std::string& key) {
  if (normalize_profile_name(p.name) == key) return true;
  for (const auto& a : p.aliases)
    if (normalize_profile_name(a) == key) return true;
  return false;
}

}  // namespace

HardwareRegistry::HardwareRegistry() : profiles_(builtin_profiles()) {}

Status HardwareRegistry::add(HardwareProfile profile, bool replace) {
  if (auto st = validate_profile(profile); !st) return st;
  std::vector<std::string> names{normalize_profile_name(profile.name)};
  for (const auto& a : profile.aliases) names.push_back(normalize_profile_name(a));
  for (auto it = profiles_.begin(); it != profiles_.end();) {
    bool clash = false;
    for (const auto& n : names) clash = clash || answers_to(*it, n);
    if (!clash) {
      ++it;
      continue;
    }
    if (!replace)
      return make_error(Errc::kInvalidArgument,
                        fmt::format("hardware profile '{}': the name is taken by '{}'", profile.name, it->name));
    it = profiles_.erase(it);
  }
  profiles_.push_back(std::move(profile));
  return {};
}

Status HardwareRegistry::load_file(const std::string& path) {
  auto text = read_text_file(path);
  if (!text) return text.error();
  nlohmann::json doc = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return make_error(Errc::kParse, fmt::format("{}: not valid JSON", path));
  nlohmann::json list;
  if (doc.is_array())
    list = doc;
  else if (doc.is_object() && doc.contains("profiles"))
    list = doc["profiles"];
  else if (doc.is_object())
    list = nlohmann::json::array({doc});
  if (!list.is_array() || list.empty())
    return make_error(Errc::kParse,
                      fmt::format("{}: expected a profile, an array of profiles or {{\"profiles\": [...]}}", path));
  HardwareRegistry staged = *this;  // all or nothing
  for (const auto& item : list) {
    HardwareProfile base;
    base.origin = path;
    if (item.is_object() && item.contains("based_on")) {
      if (!item["based_on"].is_string())
        return make_error(Errc::kParse, fmt::format("{}: 'based_on' must be a profile name", path));
      auto b = staged.find(item["based_on"].get<std::string>());
      if (!b) return make_error(Errc::kInvalidArgument, fmt::format("{}: based_on: {}", path, b.error().message));
      base = *b;
    }
    auto p = profile_from_json(item, base, path);
    if (!p) return p.error();
    if (item.is_object() && !item.contains("name"))
      return make_error(Errc::kParse, fmt::format("{}: every profile needs a \"name\"", path));
    if (auto st = staged.add(std::move(*p), /*replace=*/true); !st)
      return make_error(st.error().code, fmt::format("{}: {}", path, st.error().message));
  }
  *this = std::move(staged);
  return {};
}

Result<HardwareProfile> HardwareRegistry::find(std::string_view name) const {
  const std::string key = normalize_profile_name(name);
  for (const auto& p : profiles_)
    if (answers_to(p, key)) return p;
  std::string known;
  for (const auto& p : profiles_) known += (known.empty() ? "" : ", ") + p.name;
  return make_error(Errc::kNotFound, fmt::format("no hardware profile '{}' (known: {})", name, known));
}

}  // namespace jouleperf::hardware
