#include "jouleperf/record/cell.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "jouleperf/core/safe_text.hpp"

namespace jouleperf::record {

void Config::canonicalize() {
  std::stable_sort(settings.begin(), settings.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
}

std::string Config::key() const {
  Config c = *this;
  c.canonicalize();
  // JSON of every field: unambiguous whatever the strings hold. URL credentials are
  // redacted: the key is stored, and a password changes nothing that is measured.
  return redact_urls_in(to_json(c).dump());
}

std::optional<std::string> Config::setting(std::string_view name) const {
  for (const auto& [k, v] : settings) {
    if (k == name) return v;
  }
  return std::nullopt;
}

std::string to_string(const CellKey& key) {
  return fmt::format("{} I={} O={} B={}", key.config, key.input_tokens, key.output_tokens, key.batch);
}

std::string_view status_name(CellStatus s) {
  switch (s) {
    case CellStatus::kDone: return "done";
    case CellStatus::kSkipped: return "skipped";
    case CellStatus::kFailed: return "failed";
  }
  return "?";
}

Spread spread_of(const std::vector<double>& xs) {
  Spread s;
  s.n = xs.size();
  if (xs.empty()) return s;
  double sum = 0.0;
  s.min = xs.front();
  s.max = xs.front();
  for (double x : xs) {
    sum += x;
    s.min = std::min(s.min, x);
    s.max = std::max(s.max, x);
  }
  s.mean = sum / static_cast<double>(xs.size());
  if (xs.size() >= 2) {
    double ss = 0.0;
    for (double x : xs) ss += (x - s.mean) * (x - s.mean);
    s.stddev = std::sqrt(ss / static_cast<double>(xs.size() - 1));
  }
  return s;
}

double t975(std::uint64_t df) {
  // Exact to three decimals for df <= 30 (standard tables); beyond, the Cornish-Fisher
  // expansion around z = 1.959964, within 1e-3 of the exact value for df > 30.
  static constexpr double kTable[] = {0.0,   12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                                      2.201, 2.179,  2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080,
                                      2.074, 2.069,  2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
  if (df == 0) return std::numeric_limits<double>::infinity();
  if (df <= 30) return kTable[df];
  const double z = 1.959964, n = static_cast<double>(df);
  return z + (z * z * z + z) / (4.0 * n) + (5.0 * std::pow(z, 5) + 16.0 * z * z * z + 3.0 * z) / (96.0 * n * n);
}

double ci95_half_width(const Spread& s) {
  if (s.n < 2) return std::numeric_limits<double>::infinity();
  return t975(s.n - 1) * s.stddev / std::sqrt(static_cast<double>(s.n));
}

namespace {

std::vector<double> per_rep(const CellResult& r, double divisor) {
  std::vector<double> v;
  v.reserve(r.reps.size());
  for (const auto& rep : r.reps) v.push_back(rep.energy_j / divisor);
  return v;
}

}  // namespace

Spread CellResult::energy_per_batch_j() const { return spread_of(per_rep(*this, 1.0)); }

Spread CellResult::energy_per_request_j() const {
  return spread_of(per_rep(*this, static_cast<double>(std::max<std::uint64_t>(key.batch, 1))));
}

Spread CellResult::energy_per_output_token_j() const {
  const double tokens = static_cast<double>(std::max<std::uint64_t>(key.batch * key.output_tokens, 1));
  return spread_of(per_rep(*this, tokens));
}

Spread CellResult::duration_s() const {
  std::vector<double> v;
  for (const auto& rep : reps) v.push_back(rep.duration_s);
  return spread_of(v);
}

double CellResult::mean_uncertainty_j() const {
  if (reps.empty()) return 0.0;
  double sum = 0.0;
  for (const auto& rep : reps) sum += rep.uncertainty_j;
  return sum / static_cast<double>(reps.size());
}

double CellResult::output_tokens_per_s() const {
  const double d = duration_s().mean;
  if (d <= 0.0) return 0.0;
  return static_cast<double>(key.batch * key.output_tokens) / d;
}

nlohmann::json to_json(const Config& c) {
  nlohmann::json settings = nlohmann::json::object();
  for (const auto& [k, v] : c.settings) settings[k] = v;
  return {{"name", c.name},         {"engine", c.engine},     {"model", c.model},     {"weight_type", c.weight_type},
          {"strategy", c.strategy}, {"batching", c.batching}, {"threads", c.threads}, {"baseline", c.baseline},
          {"settings", settings}};
}

namespace {

nlohmann::json opt(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

}  // namespace

nlohmann::json to_json(const CellResult& r) {
  nlohmann::json reps = nlohmann::json::array();
  for (const auto& rep : r.reps) {
    reps.push_back({{"energy_j", rep.energy_j},
                    {"prefill_energy_j", opt(rep.prefill_energy_j)},
                    {"decode_energy_j", opt(rep.decode_energy_j)},
                    {"above_idle_j", opt(rep.above_idle_j)},
                    {"duration_s", rep.duration_s},
                    {"prefill_s", rep.prefill_s},
                    {"decode_s", rep.decode_s},
                    {"uncertainty_j", rep.uncertainty_j},
                    {"ttft_mean_s", rep.ttft_mean_s},
                    {"round", rep.round},
                    {"started_unix_s", rep.started_unix_s},
                    {"energy_source", rep.energy_source},
                    {"draft_acceptance", opt(rep.draft_acceptance)},
                    {"draft_forwards", opt(rep.draft_forwards)}});
    if (!rep.devices.empty()) {
      nlohmann::json devices = nlohmann::json::array();
      for (const auto& d : rep.devices) devices.push_back(to_json(d));
      reps.back()["devices"] = std::move(devices);
    }
    if (rep.cooldown) reps.back()["cooldown"] = to_json(*rep.cooldown);
  }
  nlohmann::json failures = nlohmann::json::array();
  for (const auto& f : r.failures)
    failures.push_back({{"phase", f.phase}, {"request", f.request}, {"reason", f.reason}});
  return {{"config", r.key.config},
          {"input_tokens", r.key.input_tokens},
          {"output_tokens", r.key.output_tokens},
          {"batch", r.key.batch},
          {"config_key", r.config_key},
          {"status", status_name(r.status)},
          {"reason", r.reason},
          {"failures", failures},
          {"warmup", r.warmup},
          {"reps", reps},
          {"energy_source", r.energy_source},
          {"estimated", r.estimated},
          {"simulated", r.simulated},
          {"below_resolution", r.below_resolution},
          {"idle_power_w", opt(r.idle_power_w)},
          {"conditions", r.conditions},
          {"finished_unix_s", r.finished_unix_s}};
}

namespace {

// Reads field `name` of object `j` into `out`; a missing or mistyped field is a kParse
// error naming it.
template <typename T>
Status field(const nlohmann::json& j, const char* name, T& out) {
  auto it = j.find(name);
  if (it == j.end()) return make_error(Errc::kParse, fmt::format("missing field \"{}\"", name));
  try {
    out = it->template get<T>();
  } catch (const nlohmann::json::exception& e) {
    return make_error(Errc::kParse, fmt::format("field \"{}\": {}", name, e.what()));
  }
  return {};
}

Status opt_field(const nlohmann::json& j, const char* name, std::optional<double>& out) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) {
    out.reset();
    return {};
  }
  if (!it->is_number()) return make_error(Errc::kParse, fmt::format("field \"{}\" is not a number", name));
  out = it->get<double>();
  return {};
}

#define JP_TRY_FIELD(expr)        \
  do {                            \
    Status st_ = (expr);          \
    if (!st_) return st_.error(); \
  } while (false)

}  // namespace

Result<Config> config_from_json(const nlohmann::json& j) {
  if (!j.is_object()) return make_error(Errc::kParse, "a configuration must be a JSON object");
  Config c;
  JP_TRY_FIELD(field(j, "name", c.name));
  JP_TRY_FIELD(field(j, "engine", c.engine));
  JP_TRY_FIELD(field(j, "model", c.model));
  JP_TRY_FIELD(field(j, "weight_type", c.weight_type));
  JP_TRY_FIELD(field(j, "strategy", c.strategy));
  JP_TRY_FIELD(field(j, "batching", c.batching));
  JP_TRY_FIELD(field(j, "threads", c.threads));
  JP_TRY_FIELD(field(j, "baseline", c.baseline));
  auto it = j.find("settings");
  if (it != j.end()) {
    if (!it->is_object()) return make_error(Errc::kParse, "field \"settings\" is not an object");
    for (const auto& [k, v] : it->items()) {
      if (!v.is_string()) return make_error(Errc::kParse, fmt::format("setting \"{}\" is not a string", k));
      c.settings.emplace_back(k, v.get<std::string>());
    }
  }
  c.canonicalize();
  return c;
}

Result<CellResult> cell_from_json(const nlohmann::json& j) {
  if (!j.is_object()) return make_error(Errc::kParse, "a cell must be a JSON object");
  CellResult r;
  JP_TRY_FIELD(field(j, "config", r.key.config));
  JP_TRY_FIELD(field(j, "input_tokens", r.key.input_tokens));
  JP_TRY_FIELD(field(j, "output_tokens", r.key.output_tokens));
  JP_TRY_FIELD(field(j, "batch", r.key.batch));
  JP_TRY_FIELD(field(j, "config_key", r.config_key));
  std::string status;
  JP_TRY_FIELD(field(j, "status", status));
  if (status == "done") {
    r.status = CellStatus::kDone;
  } else if (status == "skipped") {
    r.status = CellStatus::kSkipped;
  } else if (status == "failed") {
    r.status = CellStatus::kFailed;
  } else {
    return make_error(Errc::kParse, fmt::format("field \"status\": unknown value \"{}\"", status));
  }
  JP_TRY_FIELD(field(j, "reason", r.reason));
  // "failures" came with the kFailed status; a store written before it has none.
  if (auto fl = j.find("failures"); fl != j.end()) {
    if (!fl->is_array()) return make_error(Errc::kParse, "field \"failures\" is not an array");
    for (const auto& fj : *fl) {
      if (!fj.is_object()) return make_error(Errc::kParse, "a failure must be an object");
      CellFailure f;
      JP_TRY_FIELD(field(fj, "phase", f.phase));
      JP_TRY_FIELD(field(fj, "request", f.request));
      JP_TRY_FIELD(field(fj, "reason", f.reason));
      r.failures.push_back(std::move(f));
    }
  }
  JP_TRY_FIELD(field(j, "warmup", r.warmup));
  auto reps = j.find("reps");
  if (reps == j.end() || !reps->is_array()) return make_error(Errc::kParse, "field \"reps\" is not an array");
  for (const auto& rj : *reps) {
    if (!rj.is_object()) return make_error(Errc::kParse, "a repetition must be an object");
    Repetition rep;
    JP_TRY_FIELD(field(rj, "energy_j", rep.energy_j));
    JP_TRY_FIELD(opt_field(rj, "prefill_energy_j", rep.prefill_energy_j));
    JP_TRY_FIELD(opt_field(rj, "decode_energy_j", rep.decode_energy_j));
    JP_TRY_FIELD(opt_field(rj, "above_idle_j", rep.above_idle_j));
    JP_TRY_FIELD(field(rj, "duration_s", rep.duration_s));
    JP_TRY_FIELD(field(rj, "prefill_s", rep.prefill_s));
    JP_TRY_FIELD(field(rj, "decode_s", rep.decode_s));
    JP_TRY_FIELD(field(rj, "uncertainty_j", rep.uncertainty_j));
    JP_TRY_FIELD(field(rj, "ttft_mean_s", rep.ttft_mean_s));
    // Order fields came later: absent in older stores.
    if (rj.contains("round")) JP_TRY_FIELD(field(rj, "round", rep.round));
    if (rj.contains("started_unix_s")) JP_TRY_FIELD(field(rj, "started_unix_s", rep.started_unix_s));
    if (rj.contains("energy_source")) JP_TRY_FIELD(field(rj, "energy_source", rep.energy_source));
    JP_TRY_FIELD(opt_field(rj, "draft_acceptance", rep.draft_acceptance));
    JP_TRY_FIELD(opt_field(rj, "draft_forwards", rep.draft_forwards));
    if (auto devices = rj.find("devices"); devices != rj.end() && devices->is_array()) {
      for (const auto& dj : *devices) {
        auto d = device_thermal_from_json(dj);
        if (!d) return make_error(Errc::kParse, "repetition devices: " + d.error().message);
        rep.devices.push_back(std::move(*d));
      }
    }
    if (auto cool = rj.find("cooldown"); cool != rj.end() && !cool->is_null()) {
      auto c = cooldown_from_json(*cool);
      if (!c) return c.error();
      rep.cooldown = *c;
    }
    r.reps.push_back(rep);
  }
  JP_TRY_FIELD(field(j, "energy_source", r.energy_source));
  JP_TRY_FIELD(field(j, "estimated", r.estimated));
  JP_TRY_FIELD(field(j, "simulated", r.simulated));
  JP_TRY_FIELD(field(j, "below_resolution", r.below_resolution));
  JP_TRY_FIELD(opt_field(j, "idle_power_w", r.idle_power_w));
  auto cond = j.find("conditions");
  if (cond != j.end()) r.conditions = *cond;
  JP_TRY_FIELD(field(j, "finished_unix_s", r.finished_unix_s));
  return r;
}

}  // namespace jouleperf::record
