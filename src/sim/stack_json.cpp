#include "jouleperf/sim/stack_json.hpp"

#include <fmt/format.h>

#include <utility>
#include <vector>

#include "jouleperf/core/text.hpp"

namespace jouleperf::sim {

namespace {

std::vector<std::pair<const char*, double SoftwareStack::*>> stack_numbers() {
  return {{"compute_efficiency", &SoftwareStack::compute_efficiency},
          {"memory_efficiency", &SoftwareStack::memory_efficiency},
          {"decode_attention_efficiency", &SoftwareStack::decode_attention_efficiency},
          {"decode_matmul_efficiency", &SoftwareStack::decode_matmul_efficiency},
          {"kernels_per_layer", &SoftwareStack::kernels_per_layer},
          {"kernels_fixed", &SoftwareStack::kernels_fixed},
          {"kernel_gap_s", &SoftwareStack::kernel_gap_s},
          {"host_s_per_kernel", &SoftwareStack::host_s_per_kernel},
          {"graph_launch_s", &SoftwareStack::graph_launch_s},
          {"graph_max_batch", &SoftwareStack::graph_max_batch},
          {"host_s_per_step", &SoftwareStack::host_s_per_step},
          {"host_s_per_sequence", &SoftwareStack::host_s_per_sequence},
          {"tp_host_s_per_step", &SoftwareStack::tp_host_s_per_step},
          {"activation_passes_dim", &SoftwareStack::activation_passes_dim},
          {"activation_passes_ffn", &SoftwareStack::activation_passes_ffn},
          {"logit_passes", &SoftwareStack::logit_passes},
          {"kv_cache_copy_passes", &SoftwareStack::kv_cache_copy_passes}};
}

std::vector<std::pair<const char*, double PowerModel::*>> power_numbers() {
  return {{"active_floor", &PowerModel::active_floor},
          {"memory_weight", &PowerModel::memory_weight},
          {"exponent", &PowerModel::exponent},
          {"compute_weight", &PowerModel::compute_weight}};
}

Error parse_error(const std::string& origin, const std::string& what) {
  return make_error(Errc::kParse, fmt::format("{}: {}", origin, what));
}

}  // namespace

nlohmann::json stack_to_json(const SoftwareStack& s, const std::string& based_on) {
  nlohmann::json j = {{"name", s.name}, {"based_on", based_on}, {"description", s.description}};
  for (const auto& [key, member] : stack_numbers()) j[key] = s.*member;
  j["attention_roofline_separate"] = s.attention_roofline_separate;
  if (!s.calibration.empty()) j["calibration"] = s.calibration;
  return j;
}

nlohmann::json power_to_json(const PowerModel& m) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [key, member] : power_numbers()) j[key] = m.*member;
  return j;
}

Result<SoftwareStack> stack_from_json(const nlohmann::json& j, const std::string& origin) {
  if (!j.is_object()) return parse_error(origin, "'stack' must be a JSON object");
  auto based = j.find("based_on");
  if (based == j.end() || !based->is_string())
    return parse_error(origin, "stack: 'based_on' (a built-in stack name) is required");
  auto s = find_stack(based->get<std::string>());
  if (!s) return make_error(s.error().code, fmt::format("{}: stack based_on: {}", origin, s.error().message));
  const auto numbers = stack_numbers();
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    if (key == "based_on") continue;
    if (key == "name" || key == "description" || key == "calibration") {
      if (!it->is_string()) return parse_error(origin, fmt::format("stack '{}' must be a string", key));
      (key == "name" ? s->name : key == "description" ? s->description : s->calibration) = it->get<std::string>();
      continue;
    }
    if (key == "attention_roofline_separate") {
      if (!it->is_boolean()) return parse_error(origin, fmt::format("stack '{}' must be true or false", key));
      s->attention_roofline_separate = it->get<bool>();
      continue;
    }
    bool known = false;
    for (const auto& [name, member] : numbers) {
      if (key != name) continue;
      if (!it->is_number()) return parse_error(origin, fmt::format("stack '{}' must be a number", key));
      (*s).*member = it->get<double>();
      known = true;
    }
    if (!known) return parse_error(origin, fmt::format("stack: unknown key '{}'", key));
  }
  if (auto st = validate_stack(*s); !st)
    return make_error(st.error().code, fmt::format("{}: {}", origin, st.error().message));
  return *s;
}

Result<PowerModel> power_from_json(const nlohmann::json& j, const PowerModel& base, const std::string& origin) {
  if (!j.is_object()) return parse_error(origin, "'power' must be a JSON object");
  PowerModel m = base;
  const auto numbers = power_numbers();
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool known = false;
    for (const auto& [name, member] : numbers) {
      if (it.key() != name) continue;
      if (!it->is_number()) return parse_error(origin, fmt::format("power '{}' must be a number", it.key()));
      m.*member = it->get<double>();
      known = true;
    }
    if (!known) return parse_error(origin, fmt::format("power: unknown key '{}'", it.key()));
  }
  if (auto st = validate_power_model(m); !st)
    return make_error(st.error().code, fmt::format("{}: {}", origin, st.error().message));
  return m;
}

Result<StackFile> load_stack_file(const std::string& path) {
  auto text = read_text_file(path);
  if (!text) return text.error();
  nlohmann::json doc = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return parse_error(path, "not valid JSON");
  if (!doc.is_object() || !doc.contains("stack"))
    return parse_error(path, "expected an object with a \"stack\" object (as jouleperf calibrate --save writes)");
  auto s = stack_from_json(doc["stack"], path);
  if (!s) return s.error();
  StackFile out{*s, std::nullopt};
  if (auto p = doc.find("power"); p != doc.end()) {
    if (!p->is_object()) return parse_error(path, "'power' must be a JSON object");
    out.power = *p;
  }
  return out;
}

}  // namespace jouleperf::sim
