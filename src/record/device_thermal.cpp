#include "jouleperf/record/device_thermal.hpp"

#include <fmt/format.h>

namespace jouleperf::record {

namespace {

nlohmann::json opt(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

// Reads an optional number: absent or null leaves it unset.
Status number(const nlohmann::json& j, const char* name, std::optional<double>& out) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return {};
  if (!it->is_number()) return make_error(Errc::kParse, fmt::format("field \"{}\" is not a number", name));
  out = it->get<double>();
  return {};
}

}  // namespace

nlohmann::json to_json(const DeviceThermal& d) {
  nlohmann::json j = {{"domain", d.domain},
                      {"temp_start_c", opt(d.temp_start_c)},
                      {"temp_end_c", opt(d.temp_end_c)},
                      {"temp_max_c", opt(d.temp_max_c)},
                      {"power_limit_w", opt(d.power_limit_w)},
                      {"sm_clock_mhz", opt(d.sm_clock_mhz)}};
  j["throttle_reasons"] = d.throttle_reasons ? nlohmann::json(*d.throttle_reasons) : nlohmann::json(nullptr);
  return j;
}

nlohmann::json to_json(const CoolDown& c) {
  return {{"target_c", opt(c.target_c)}, {"waited_s", c.waited_s}, {"reached", c.reached}, {"temp_c", opt(c.temp_c)}};
}

Result<DeviceThermal> device_thermal_from_json(const nlohmann::json& j) {
  if (!j.is_object()) return make_error(Errc::kParse, "a device record must be an object");
  DeviceThermal d;
  auto domain = j.find("domain");
  if (domain == j.end() || !domain->is_string()) return make_error(Errc::kParse, "field \"domain\" is not text");
  d.domain = domain->get<std::string>();
  for (auto [name, field] : {std::pair{"temp_start_c", &d.temp_start_c}, std::pair{"temp_end_c", &d.temp_end_c},
                             std::pair{"temp_max_c", &d.temp_max_c}, std::pair{"power_limit_w", &d.power_limit_w},
                             std::pair{"sm_clock_mhz", &d.sm_clock_mhz}})
    if (auto st = number(j, name, *field); !st) return st.error();
  auto reasons = j.find("throttle_reasons");
  if (reasons != j.end() && !reasons->is_null()) {
    if (!reasons->is_array()) return make_error(Errc::kParse, "field \"throttle_reasons\" is not a list");
    std::vector<std::string> names;
    for (const auto& r : *reasons) {
      if (!r.is_string()) return make_error(Errc::kParse, "field \"throttle_reasons\" holds a value that is not text");
      names.push_back(r.get<std::string>());
    }
    d.throttle_reasons = std::move(names);
  }
  return d;
}

Result<CoolDown> cooldown_from_json(const nlohmann::json& j) {
  if (!j.is_object()) return make_error(Errc::kParse, "field \"cooldown\" is not an object");
  CoolDown c;
  if (auto st = number(j, "target_c", c.target_c); !st) return st.error();
  if (auto st = number(j, "temp_c", c.temp_c); !st) return st.error();
  std::optional<double> waited;
  if (auto st = number(j, "waited_s", waited); !st) return st.error();
  c.waited_s = waited.value_or(0.0);
  auto reached = j.find("reached");
  if (reached != j.end()) {
    if (!reached->is_boolean()) return make_error(Errc::kParse, "field \"reached\" is not true or false");
    c.reached = reached->get<bool>();
  }
  return c;
}

}  // namespace jouleperf::record
