#include "number_flags.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "jouleperf/core/number_rules.hpp"

namespace jouleperf::cli {
namespace {

constexpr const char* kAllowNegative = "allow-negative";

// The option's value type as CLI11 names it ("UINT", "INT", "FLOAT", "TEXT", ...), before
// any validator's description is appended ("FLOAT:POSITIVE"); nullopt for no number.
std::optional<NumberKind> kind_of(const CLI::Option& opt) {
  const std::string full = opt.get_type_name();
  const std::string_view t = std::string_view(full).substr(0, full.find(':'));
  if (t == "UINT") return NumberKind::kUnsigned;
  if (t == "INT") return NumberKind::kInteger;
  if (t == "FLOAT") return NumberKind::kFloat;
  return std::nullopt;
}

using NamedRange = NumberRange;
constexpr double kHuge = kNoUpperBound;

// Ranges by long option name; each holds for every subcommand with a numeric option of
// that name. Keep docs/workloads.md ("Limits") in step.
constexpr NamedRange kNamedRanges[] = {
    {"idle-power", 0, kMaxIdlePowerW, false, "W", "100 kW, a full rack"},
    {"idle", 0, 86400, false, "s", "at most a day"},
    {"slo-ttft", 0, kHuge, true, "s", "an SLO must be > 0"},
    {"slo-tpot", 0, kHuge, true, "s", "an SLO must be > 0"},
    {"slo-e2e", 0, kHuge, true, "s", "an SLO must be > 0"},
    {"min-throughput", 0, kHuge, true, "req/s", "an SLO must be > 0"},
    {"carbon-intensity", 0, 3000, false, "gCO2e/kWh", "no grid emits more than ~1200"},
    {"pue", 1, 10, false, "", "power usage effectiveness"},
    {"count", 0, static_cast<double>(kMaxRequestCount), false, "requests", "the request records must fit memory"},
    {"requests", 0, static_cast<double>(kMaxRequestCount), false, "requests", "the request records must fit memory"},
    {"replay-requests", 0, static_cast<double>(kMaxRequestCount), false, "requests",
     "the request records must fit memory"},
    {"validation-requests", 0, static_cast<double>(kMaxRequestCount), false, "requests",
     "the request records must fit memory"},
    {"batch", 0, static_cast<double>(kMaxRequestCount), false, "requests", "the request records must fit memory"},
    {"speed", 0, kHuge, true, "x", "a time compression must be > 0"},
    {"poisson", 0, kHuge, true, "req/s", "an arrival rate must be > 0"},
    {"rate", 0, kHuge, true, "req/s", "an arrival rate must be > 0"},
    {"replay-rate", 0, kHuge, true, "req/s", "an arrival rate must be > 0"},
    {"cv", 0, kHuge, true, "", "a coefficient of variation must be > 0"},
    {"memory-utilization", 0, 1, true, "", "a share of device memory"},
    {"spec-acceptance", 0, 1, false, "", "a probability"},
};

// Options whose negative values mean something ("--gpu-layers -1" = every layer), by long
// name; allow_negative() marks one where it is declared instead.
constexpr const char* kNegativeAllowed[] = {"gpu-layers"};

bool negative_allowed(CLI::Option& opt) {
  try {
    opt.get_validator(kAllowNegative);
    return true;
  } catch (const CLI::OptionNotFound&) {
  }
  if (opt.get_lnames().empty()) return false;
  for (const char* name : kNegativeAllowed)
    if (opt.get_lnames().front() == name) return true;
  return false;
}

const NamedRange* named_range(const CLI::Option& opt) {
  if (opt.get_lnames().empty()) return nullptr;
  const std::string& name = opt.get_lnames().front();
  for (const auto& r : kNamedRanges)
    if (name == r.name) return &r;
  return nullptr;
}

void attach(CLI::Option* opt) {
  const auto kind = kind_of(*opt);
  if (!kind || opt->get_type_size() == 0) return;
  const bool negative_ok = negative_allowed(*opt);
  const NamedRange* range = named_range(*opt);
  const std::string env = opt->get_envname();
  opt->check(CLI::Validator(
      [kind = *kind, negative_ok, range, env](std::string& value) -> std::string {
        // A named range states the sign rule itself ("> 0", "1 to 10"), so it speaks for it.
        std::string msg = check_number_text(kind, negative_ok || range != nullptr, value);
        if (msg.empty() && range != nullptr) msg = check_number_range(*range, value);
        if (!msg.empty() && !env.empty()) {
          const char* from_env = std::getenv(env.c_str());
          if (from_env != nullptr && value == from_env) msg += fmt::format(" (the value of {})", env);
        }
        return msg;
      },
      "", "number"));
}

void walk(CLI::App& app) {
  for (CLI::Option* opt : app.get_options()) attach(opt);
  for (CLI::App* sub : app.get_subcommands({})) walk(*sub);
}

}  // namespace

void add_number_checks(CLI::App& app) { walk(app); }

CLI::Option* allow_negative(CLI::Option* opt) {
  return opt->check(CLI::Validator([](std::string&) { return std::string(); }, "", kAllowNegative));
}

}  // namespace jouleperf::cli
