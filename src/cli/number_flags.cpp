#include "number_flags.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace jouleperf::cli {
namespace {

constexpr const char* kAllowNegative = "allow-negative";

enum class Kind { kInteger, kUnsigned, kFloat, kOther };

// The option's value type as CLI11 names it ("UINT", "INT", "FLOAT", "TEXT", ...), before
// any validator's description is appended ("FLOAT:POSITIVE").
Kind kind_of(const CLI::Option& opt) {
  const std::string full = opt.get_type_name();
  const std::string_view t = std::string_view(full).substr(0, full.find(':'));
  if (t == "UINT") return Kind::kUnsigned;
  if (t == "INT") return Kind::kInteger;
  if (t == "FLOAT") return Kind::kFloat;
  return Kind::kOther;
}

std::string_view trim_left(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r'))
    s.remove_prefix(1);
  return s;
}

// `text` read whole as a double (NaN and infinities included); nullopt when it is no number.
std::optional<double> read_double(const std::string& text) {
  if (trim_left(text).empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) return std::nullopt;
  return v;  // strtod returns +-HUGE_VAL (an infinity) on overflow
}

// Empty values, signs, NaN/inf and integer overflow. "" when the value is acceptable;
// text that is no number at all is left to CLI11's own conversion error.
std::string check_value(Kind kind, bool negative_ok, const std::string& value) {
  const std::string_view s = trim_left(value);
  if (s.empty()) return "an empty value is not a number (give one, or leave the option out)";
  const bool negative = s.front() == '-';
  switch (kind) {
    case Kind::kUnsigned: {
      if (negative) return fmt::format("{} is negative; expected a whole number >= 0", value);
      errno = 0;
      char* end = nullptr;
      std::strtoull(value.c_str(), &end, 0);
      if (errno == ERANGE) return fmt::format("{} is too large for a whole number (at most 2^64 - 1)", value);
      return {};
    }
    case Kind::kInteger: {
      if (negative && !negative_ok) return fmt::format("{} is negative; expected a whole number >= 0", value);
      errno = 0;
      char* end = nullptr;
      std::strtoll(value.c_str(), &end, 0);
      if (errno == ERANGE) return fmt::format("{} is out of range for a whole number", value);
      return {};
    }
    case Kind::kFloat: {
      const auto v = read_double(value);
      if (!v) return {};
      if (!std::isfinite(*v)) return fmt::format("{} is not a finite number", value);
      if (*v < 0 && !negative_ok) return fmt::format("{} is negative; expected a number >= 0", value);
      return {};
    }
    case Kind::kOther: return {};
  }
  return {};
}

// A range some options need beyond ">= 0": [lo, hi] (lo_open: (lo, hi]) in `unit`, `why`.
struct NamedRange {
  const char* name;  // long option name, without the dashes
  double lo, hi;
  bool lo_open;
  const char* unit;
  const char* why;
};

constexpr double kHuge = 1e300;  // "no upper bound" (the value is finite already)

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

std::string check_range(const NamedRange& r, const std::string& value) {
  const auto v = read_double(value);
  if (!v || !std::isfinite(*v)) return {};  // check_value has spoken, or CLI11 will
  const bool low = r.lo_open ? !(*v > r.lo) : !(*v >= r.lo);
  if (!low && *v <= r.hi) return {};
  const std::string unit = *r.unit ? std::string(" ") + r.unit : std::string();
  if (r.hi >= kHuge)
    return fmt::format("{} is out of range; expected a number > {:.15g}{} ({})", value, r.lo, unit, r.why);
  return fmt::format("{} is out of range; expected {:.15g} {} {:.15g}{} ({})", value, r.lo,
                     r.lo_open ? "(exclusive) to" : "to", r.hi, unit, r.why);
}

void attach(CLI::Option* opt) {
  const Kind kind = kind_of(*opt);
  if (kind == Kind::kOther || opt->get_type_size() == 0) return;
  const bool negative_ok = negative_allowed(*opt);
  const NamedRange* range = named_range(*opt);
  const std::string env = opt->get_envname();
  opt->check(CLI::Validator(
      [kind, negative_ok, range, env](std::string& value) -> std::string {
        // A named range states the sign rule itself ("> 0", "1 to 10"), so it speaks for it.
        std::string msg = check_value(kind, negative_ok || range != nullptr, value);
        if (msg.empty() && range != nullptr) msg = check_range(*range, value);
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
