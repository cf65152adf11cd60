// Prometheus exporter sensors: one per endpoint. At open, one scrape decides which
// metric family to follow (see prometheus.hpp); each read() scrapes again, sums the
// chosen series and unwraps counters per series.
#include "jouleperf/sensor/prometheus.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <set>

#include "jouleperf/core/http.hpp"
#include "jouleperf/sensor/counter.hpp"
#include "jouleperf/sensor/prometheus_text.hpp"

namespace jouleperf {

namespace {

constexpr std::string_view kDcgmEnergy = "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION";  // counter, mJ
constexpr std::string_view kDcgmPower = "DCGM_FI_DEV_POWER_USAGE";                // gauge, W
constexpr std::string_view kNodeRaplPrefix = "node_rapl_";
constexpr std::string_view kNodeRaplSuffix = "_joules_total";
constexpr std::string_view kNodeRaplZoneLabelled = "node_rapl_joules_total";  // --collector.rapl.enable-zone-label
constexpr std::string_view kKeplerCpu = "kepler_node_cpu_joules_total";       // Kepler >= 0.10, label zone
constexpr std::string_view kKeplerGpu = "kepler_node_gpu_joules_total";
constexpr std::string_view kKeplerPlatform = "kepler_node_platform_joules_total";  // Kepler <= 0.7
constexpr std::string_view kKeplerPackage = "kepler_node_package_joules_total";
constexpr std::string_view kKeplerDram = "kepler_node_dram_joules_total";
constexpr std::string_view kKeplerInfo = "kepler_node_info";

// What we ask exporters for: the text format this parser reads.
constexpr const char* kAcceptHeader = "Accept: text/plain;version=0.0.4;q=1.0,*/*;q=0.1";

constexpr const char* kLookedFor =
    "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION or DCGM_FI_DEV_POWER_USAGE (DCGM exporter); "
    "node_rapl_package_joules_total, node_rapl_dram_joules_total, node_rapl_psys_joules_total or "
    "node_rapl_joules_total{rapl_zone} (node exporter); kepler_node_cpu_joules_total, "
    "kepler_node_platform_joules_total, kepler_node_package_joules_total, kepler_node_dram_joules_total or "
    "kepler_node_gpu_joules_total (Kepler)";

enum class Family { kDcgmEnergy, kDcgmPower, kNodeRapl, kKeplerZones, kKeplerPlatform, kKeplerComponents };

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

std::string labels_text(const PromSampleView& s) {
  std::string out = "{";
  for (const auto& l : s.labels) {
    if (out.size() > 1) out += ',';
    out.append(l.name);
    out += "=\"";
    out.append(l.value);
    out += '"';
  }
  out += '}';
  return out;
}

// GPU identity of a DCGM sample: the `gpu` index, else the UUID. MIG setups repeat a
// GPU's device-level fields once per GPU instance (GPU_I_ID), and Kubernetes mapping
// adds pod labels that change over time: neither may make a new series.
std::string_view dcgm_gpu_id(const PromSampleView& s) {
  if (auto g = s.label("gpu")) return *g;
  if (auto u = s.label("UUID")) return *u;
  return {};
}

// RAPL zone of a node exporter sample ("package", "dram", ...), "" if it is not one.
std::string_view node_rapl_zone(const PromSampleView& s) {
  if (s.name == kNodeRaplZoneLabelled) return s.label("rapl_zone").value_or(std::string_view{});
  if (s.name.size() > kNodeRaplPrefix.size() + kNodeRaplSuffix.size() && s.name.starts_with(kNodeRaplPrefix) &&
      s.name.ends_with(kNodeRaplSuffix))
    return s.name.substr(kNodeRaplPrefix.size(), s.name.size() - kNodeRaplPrefix.size() - kNodeRaplSuffix.size());
  return {};
}

// intel-rapl-mmio:0 is a second view of package 0 on recent Intel client CPUs (same
// name "package-0"): counting it would count the package twice.
bool node_rapl_duplicate_view(const PromSampleView& s) {
  return s.label("path").value_or(std::string_view{}).find("intel-rapl-mmio") != std::string_view::npos;
}

// What one scrape at open shows: which families exist and facts for conditions().
struct Inventory final : PromVisitor {
  std::set<std::string> dcgm_energy_gpus, dcgm_power_gpus;
  std::set<std::string> node_zones, kepler_zones;
  bool kepler_gpu = false, kepler_platform = false, kepler_package = false, kepler_dram = false;
  bool saw_dcgm = false, saw_node = false, saw_kepler = false;
  std::string kepler_components_source, kepler_platform_source;
  std::vector<std::pair<std::string, std::string>> facts;

  void fact(std::string key, std::string_view value) {
    for (const auto& [k, v] : facts)
      if (k == key) return;
    facts.emplace_back(std::move(key), std::string(value));
  }

  void on_sample(const PromSampleView& s) override {
    const std::string_view n = s.name;
    saw_dcgm = saw_dcgm || n.starts_with("DCGM_");
    saw_node = saw_node || n.starts_with("node_");
    saw_kepler = saw_kepler || n.starts_with("kepler_");
    if (n == kDcgmEnergy || n == kDcgmPower) {
      const std::string id(dcgm_gpu_id(s));
      (n == kDcgmEnergy ? dcgm_energy_gpus : dcgm_power_gpus).insert(id);
      const std::string gpu = "gpu" + id;
      if (auto m = s.label("modelName")) fact(gpu + ".model", *m);
      if (auto u = s.label("UUID")) fact(gpu + ".uuid", *u);
      if (auto h = s.label("Hostname")) fact("hostname", *h);
      if (auto d = s.label("DCGM_FI_DRIVER_VERSION")) fact("driver", *d);
      return;
    }
    if (const auto zone = node_rapl_zone(s); !zone.empty()) {
      if (!node_rapl_duplicate_view(s)) node_zones.insert(std::string(zone));
      return;
    }
    if (n == kKeplerCpu) {
      if (auto z = s.label("zone")) kepler_zones.insert(std::string(*z));
    } else if (n == kKeplerGpu) {
      kepler_gpu = true;
    } else if (n == kKeplerPlatform) {
      kepler_platform = true;
    } else if (n == kKeplerPackage) {
      kepler_package = true;
    } else if (n == kKeplerDram) {
      kepler_dram = true;
    } else if (n == kKeplerInfo) {
      kepler_components_source = std::string(s.label("components_power_source").value_or(""));
      kepler_platform_source = std::string(s.label("platform_power_source").value_or(""));
    } else if (n == "kepler_exporter_build_info" || n == "kepler_build_info") {
      if (auto v = s.label("version")) fact("kepler.version", *v);
    }
  }
};

// Which series to read and how to turn their values into energy or power.
struct Plan {
  Family family = Family::kDcgmEnergy;
  std::string exporter;            // "dcgm-exporter", "node-exporter", "kepler"
  std::string summary;             // the metric(s), for the description and conditions
  std::vector<std::string> zones;  // RAPL/Kepler zones that count, in the order shown
  bool with_kepler_gpu = false;    // add kepler_node_gpu_joules_total
  bool counter = true;             // false: a power gauge in W
  double raw_per_value = 1.0;      // exposition value * this = raw counter units
  double joules_per_raw = 1.0;
  double resolution_j = 0.0;
  double power_resolution_w = 0.0;
  double update_interval_s = 0.0;
  bool estimated = false;
};

bool has(const std::vector<std::string>& v, std::string_view x) { return std::find(v.begin(), v.end(), x) != v.end(); }

std::string join(const std::vector<std::string>& s, const char* sep) {
  std::string out;
  for (const auto& x : s) {
    if (!out.empty()) out += sep;
    out += x;
  }
  return out;
}

std::optional<Plan> choose_plan(const Inventory& inv, const PrometheusOptions& opts,
                                std::vector<std::pair<std::string, std::string>>& notes) {
  // 1. DCGM exporter: the energy counter when it covers every GPU that reports power.
  if (!inv.dcgm_energy_gpus.empty() || !inv.dcgm_power_gpus.empty()) {
    const bool energy_covers =
        !inv.dcgm_energy_gpus.empty() && std::includes(inv.dcgm_energy_gpus.begin(), inv.dcgm_energy_gpus.end(),
                                                       inv.dcgm_power_gpus.begin(), inv.dcgm_power_gpus.end());
    Plan p;
    p.exporter = "dcgm-exporter";
    p.update_interval_s = opts.dcgm_interval_s;
    if (energy_covers) {
      p.family = Family::kDcgmEnergy;
      p.summary = std::string(kDcgmEnergy) + " (mJ counter) summed over " +
                  std::to_string(inv.dcgm_energy_gpus.size()) + " GPU(s)";
      p.raw_per_value = 1.0;
      p.joules_per_raw = 1e-3;
      p.resolution_j = 1e-3;
    } else {
      if (!inv.dcgm_energy_gpus.empty())
        notes.emplace_back("note", std::string(kDcgmEnergy) + " is missing for some GPUs; using power instead");
      p.family = Family::kDcgmPower;
      p.counter = false;
      p.summary =
          std::string(kDcgmPower) + " (W gauge) summed over " + std::to_string(inv.dcgm_power_gpus.size()) + " GPU(s)";
      p.power_resolution_w = 1e-3;  // NVML reports milliwatts
    }
    return p;
  }
  // 2. Node exporter RAPL: package + dram (core, uncore are inside package; psys
  //    overlaps both), or psys alone where there is no package zone.
  if (!inv.node_zones.empty()) {
    Plan p;
    p.family = Family::kNodeRapl;
    p.exporter = "node-exporter";
    if (inv.node_zones.count("package")) {
      p.zones.push_back("package");
      if (inv.node_zones.count("dram")) p.zones.push_back("dram");
    } else if (inv.node_zones.count("psys")) {
      p.zones.push_back("psys");
    }
    if (!p.zones.empty()) {
      p.summary = "node_rapl_*_joules_total (J counters), zones " + join(p.zones, "+");
      p.raw_per_value = 1e6;  // exposed as energy_uj / 1e6: whole microjoules
      p.joules_per_raw = 1e-6;
      p.resolution_j = 1e-6;
      p.update_interval_s = 0.0;  // read from sysfs at scrape time
      return p;
    }
  }
  // 3. Kepler. >= 0.10: kepler_node_cpu_joules_total{zone} (+ GPUs); <= 0.7: platform,
  //    else package + dram + gpu, each split into mode="dynamic" and mode="idle".
  const bool components_estimated = inv.kepler_components_source == "estimator";
  const bool platform_estimated = inv.kepler_platform_source == "estimator" || inv.kepler_platform_source == "none";
  if (!inv.kepler_zones.empty()) {
    Plan p;
    p.family = Family::kKeplerZones;
    p.exporter = "kepler";
    if (inv.kepler_zones.count("package")) {
      p.zones.push_back("package");
      if (inv.kepler_zones.count("dram")) p.zones.push_back("dram");
    } else if (inv.kepler_zones.count("psys")) {
      p.zones.push_back("psys");
    }
    if (!p.zones.empty()) {
      p.with_kepler_gpu = inv.kepler_gpu;
      p.summary = std::string(kKeplerCpu) + " (J counters), zones " + join(p.zones, "+") +
                  (p.with_kepler_gpu ? " + " + std::string(kKeplerGpu) : "");
      p.raw_per_value = 1e6;
      p.joules_per_raw = 1e-6;
      p.resolution_j = 1e-6;
      p.update_interval_s = opts.kepler_interval_s > 0 ? opts.kepler_interval_s : 5.0;
      p.estimated = components_estimated;
      return p;
    }
  }
  if (inv.kepler_platform || inv.kepler_package || inv.kepler_dram) {
    Plan p;
    p.exporter = "kepler";
    p.raw_per_value = 1e6;
    p.joules_per_raw = 1e-6;
    p.resolution_j = 1e-3;  // Kepler <= 0.7 accumulates millijoules
    p.update_interval_s = opts.kepler_interval_s > 0 ? opts.kepler_interval_s : 3.0;
    if (inv.kepler_platform) {
      p.family = Family::kKeplerPlatform;
      p.summary = std::string(kKeplerPlatform) + " (J counter, dynamic + idle)";
      p.estimated = platform_estimated;
    } else {
      p.family = Family::kKeplerComponents;
      p.with_kepler_gpu = inv.kepler_gpu;
      p.summary = "kepler_node_{package,dram" + std::string(p.with_kepler_gpu ? ",gpu" : "") +
                  "}_joules_total (J counters, dynamic + idle)";
      p.estimated = components_estimated;
    }
    return p;
  }
  return std::nullopt;
}

// If sample `s` counts under plan `p`, sets its series key and display name.
bool select_series(const Plan& p, const PromSampleView& s, std::string& key, std::string& display) {
  switch (p.family) {
    case Family::kDcgmEnergy:
    case Family::kDcgmPower: {
      if (s.name != (p.family == Family::kDcgmEnergy ? kDcgmEnergy : kDcgmPower)) return false;
      key.assign(dcgm_gpu_id(s));
      display.assign("gpu").append(key);
      return true;
    }
    case Family::kNodeRapl: {
      const std::string_view zone = node_rapl_zone(s);
      if (zone.empty() || node_rapl_duplicate_view(s) || !has(p.zones, zone)) return false;
      const std::string_view index = s.label("index").value_or("");
      display.assign(zone).append(":").append(index);
      key.assign(display).append(":").append(s.label("path").value_or(""));
      return true;
    }
    case Family::kKeplerZones: {
      if (s.name == kKeplerCpu) {
        const std::string_view zone = s.label("zone").value_or("");
        if (!has(p.zones, zone)) return false;
        display.assign("cpu.").append(zone);
        key.assign(display).append(":").append(s.label("path").value_or(""));
        return true;
      }
      if (p.with_kepler_gpu && s.name == kKeplerGpu) {
        display.assign("gpu").append(s.label("gpu").value_or(""));
        key = labels_text(s);
        return true;
      }
      return false;
    }
    case Family::kKeplerPlatform:
    case Family::kKeplerComponents: {
      std::string_view component;
      if (p.family == Family::kKeplerPlatform) {
        if (s.name != kKeplerPlatform) return false;
        component = "platform";
      } else if (s.name == kKeplerPackage) {
        component = "package";
      } else if (s.name == kKeplerDram) {
        component = "dram";
      } else if (p.with_kepler_gpu && s.name == kKeplerGpu) {
        component = "gpu";
      } else {
        return false;
      }
      display.assign(component);
      for (const char* l : {"package", "index", "gpu", "mode"})
        if (auto v = s.label(l)) display.append(".").append(*v);
      key.assign(s.name).append(labels_text(s));
      return true;
    }
  }
  return false;
}

// The physical bound of one series that counts under plan `p`, W (see prometheus.hpp).
double series_bound_w(const Plan& p, const PromSampleView& s, const PrometheusOptions& opts) {
  if (opts.series_max_power_w) return *opts.series_max_power_w;
  const auto zone_bound = [](std::string_view zone) {
    if (zone == "dram") return kPromDramMaxPowerW;
    if (zone == "package" || zone == "core" || zone == "uncore") return kPromPackageMaxPowerW;
    return kPromPsysMaxPowerW;
  };
  switch (p.family) {
    case Family::kDcgmEnergy:
    case Family::kDcgmPower: return kPromGpuMaxPowerW;
    case Family::kNodeRapl: return zone_bound(node_rapl_zone(s));
    case Family::kKeplerZones:
      return s.name == kKeplerGpu ? kPromGpuMaxPowerW : zone_bound(s.label("zone").value_or(""));
    case Family::kKeplerPlatform: return kPromPlatformMaxPowerW;
    case Family::kKeplerComponents:
      if (s.name == kKeplerGpu) return kPromGpuMaxPowerW;
      return s.name == kKeplerDram ? kPromDramMaxPowerW : kPromPackageMaxPowerW;
  }
  return kPromPlatformMaxPowerW;
}

class PrometheusSensor final : public Sensor {
 public:
  PrometheusSensor(std::unique_ptr<HttpClient> http, Plan plan, SensorInfo info,
                   std::vector<std::pair<std::string, std::string>> facts, const PrometheusOptions& opts,
                   const Clock& clock)
      : http_(std::move(http)),
        plan_(std::move(plan)),
        info_(std::move(info)),
        facts_(std::move(facts)),
        opts_(opts),
        clock_(clock) {}

  const SensorInfo& info() const override { return info_; }

  Result<Reading> read() override {
    const double t0 = clock_.now().value();
    auto st = http_->get(resp_);
    const double t1 = clock_.now().value();
    if (!st) return st.error();
    // The exporter produced the values somewhere inside the request.
    return ingest(resp_.body, Seconds(0.5 * (t0 + t1)));
  }

  // Takes in one exposition; all-or-nothing: on error no series state changes.
  Result<Reading> ingest(std::string_view body, Seconds t) {
    for (auto& se : series_) {
      se.seen = false;
      se.dups = 0;
    }
    const std::size_t known = series_.size();
    std::optional<std::string> implausible;
    auto st = for_each_prometheus_sample(body, [&](const PromSampleView& s) {
      if (implausible || !select_series(plan_, s, key_, display_)) return;
      const double bound_w = series_bound_w(plan_, s, opts_);
      const auto where = [&] {
        return url() + ": line " + std::to_string(s.line) + ": " + std::string(s.name) + labels_text(s) + " is " +
               num(s.value);
      };
      if (!std::isfinite(s.value) || s.value < 0 || (plan_.counter && s.value * plan_.raw_per_value >= 1.8e19)) {
        implausible = where() + ", not a finite " + (plan_.counter ? "energy counter" : "power") + " >= 0";
        return;
      }
      if (!plan_.counter && s.value > bound_w) {
        implausible = where() + " W, above the series' " + num(bound_w) + " W bound";
        return;
      }
      Series* se = find(key_);
      if (se == nullptr) se = &add(key_, display_, bound_w);
      if (!se->seen) {
        se->seen = true;
        se->value = s.value;
        se->dups = 1;
      } else if (plan_.counter) {
        se->value = std::max(se->value, s.value);  // repeated per MIG instance: the latest is the largest
        ++se->dups;
      } else {
        se->value += s.value;  // mean of the repeats below
        ++se->dups;
      }
    });
    const auto rollback = [&] { series_.erase(series_.begin() + static_cast<std::ptrdiff_t>(known), series_.end()); };
    if (!st) {
      rollback();
      return make_error(Errc::kParse, url() + ": malformed exposition: " + st.error().message);
    }
    Reading r;
    r.t = t;
    if (implausible) {
      rollback();
      r.rejected = std::move(implausible);
      return r;
    }
    for (std::size_t i = 0; i < known; ++i) {
      if (!series_[i].seen) {
        rollback();
        return make_error(Errc::kNotFound, url() + ": series " + series_[i].display + " of " + plan_.summary +
                                               " is missing from this scrape (it was there before)");
      }
    }
    if (series_.empty()) return make_error(Errc::kNotFound, url() + ": no longer exposes " + plan_.summary);

    if (plan_.counter) {
      // All or nothing: judge every series first; one implausible step rejects the scrape.
      verdicts_.clear();
      std::string why;
      for (auto& se : series_) {
        // Below 1.8e19 (checked above): fits in 64 bits, where llround's long long would not.
        const auto raw = static_cast<std::uint64_t>(std::round(se.value * plan_.raw_per_value));
        verdicts_.push_back(se.unwrap.judge(raw, t));
        if (verdicts_.back().kind == CounterUnwrapper::Verdict::Kind::kRejected && why.empty())
          why = url() + ": series " + se.display + ": " + verdicts_.back().reason;
      }
      if (!why.empty()) {
        // Rejected series remember their value (to re-base on it); the others stay put.
        for (std::size_t i = 0; i < series_.size(); ++i)
          if (verdicts_[i].kind == CounterUnwrapper::Verdict::Kind::kRejected) series_[i].unwrap.apply(verdicts_[i]);
        rollback();
        r.rejected = std::move(why);
        return r;
      }
    }
    double total = 0.0;
    for (std::size_t i = 0; i < series_.size(); ++i) {
      Series& se = series_[i];
      if (plan_.counter) {
        const CounterUpdate u = se.unwrap.apply(verdicts_[i]);
        se.energy_j = u.energy.value();
        if (u.rebased) {
          r.rebased = true;
          r.gap_s = std::max(r.gap_s, u.gap_s);
        }
        total += se.energy_j;
      } else {
        se.power_w = se.value / se.dups;
        total += se.power_w;
      }
    }
    double bound_sum_w = 0.0;
    for (const auto& se : series_) bound_sum_w += se.max_power_w;
    info_.caps.max_power_w = bound_sum_w;
    if (plan_.counter) {
      r.energy = Joules(total);
    } else {
      r.power = Watts(total);
    }
    return r;
  }

  std::vector<std::pair<std::string, std::string>> conditions() override {
    std::vector<std::pair<std::string, std::string>> out;
    out.emplace_back("exporter", plan_.exporter);
    out.emplace_back("url", url());
    out.emplace_back("metric", plan_.summary);
    out.emplace_back("update_interval_s", num(plan_.update_interval_s));
    if (plan_.estimated) out.emplace_back("estimated", "exporter reports modelled (estimator) power");
    out.emplace_back("series", std::to_string(series_.size()));
    std::uint64_t resets = 0, rejected = 0, rebases = 0;
    for (const auto& se : series_) {
      resets += se.unwrap.wraps();
      rejected += se.unwrap.rejected();
      rebases += se.unwrap.rebases();
    }
    if (plan_.counter) {
      out.emplace_back("counter_resets", std::to_string(resets));
      out.emplace_back("rejected_values", std::to_string(rejected));
      out.emplace_back("counter_rebases", std::to_string(rebases));
    }
    out.emplace_back("max_power_w", num(info_.caps.max_power_w));
    for (const auto& f : facts_) out.push_back(f);
    // Per-series breakdown (per GPU for DCGM): energy since open, or last power.
    for (const auto& se : series_) {
      if (plan_.counter) {
        out.emplace_back(se.display + ".energy_j", num(se.energy_j));
      } else {
        out.emplace_back(se.display + ".power_w", num(se.power_w));
      }
    }
    return out;
  }

 private:
  struct Series {
    Series(std::string k, std::string d, CounterOptions o)
        : key(std::move(k)), display(std::move(d)), max_power_w(o.max_power_w), unwrap(std::move(o)) {}
    std::string key;
    std::string display;
    double max_power_w;       // this series' physical bound, W
    CounterUnwrapper unwrap;  // a decrease is a reset (Prometheus increase()), if plausible
    double energy_j = 0.0;    // unwrapped, since this series was first seen
    double power_w = 0.0;
    // This scrape.
    bool seen = false;
    double value = 0.0;
    int dups = 0;
  };

  const std::string& url() const { return http_->url(); }

  Series* find(const std::string& key) {
    for (auto& se : series_)
      if (se.key == key) return &se;
    return nullptr;
  }

  Series& add(const std::string& key, const std::string& display, double max_power_w) {
    std::string d = display;
    for (int n = 2; std::any_of(series_.begin(), series_.end(), [&](const Series& s) { return s.display == d; }); ++n)
      d = display + "#" + std::to_string(n);
    CounterOptions o;
    o.joules_per_raw = plan_.joules_per_raw;
    o.on_decrease = CounterDecrease::kReset;
    o.max_power_w = max_power_w;
    o.slack_s = std::max(plan_.update_interval_s, kPromMinSlackS);
    series_.emplace_back(key, d, std::move(o));
    return series_.back();
  }

  std::unique_ptr<HttpClient> http_;
  Plan plan_;
  SensorInfo info_;
  std::vector<std::pair<std::string, std::string>> facts_;
  PrometheusOptions opts_;
  const Clock& clock_;
  std::vector<Series> series_;
  std::vector<CounterUnwrapper::Verdict> verdicts_;  // scratch, reused
  HttpResponse resp_;                                // reused: keeps the body buffer's capacity
  std::string key_, display_;                        // scratch, reused
};

Result<std::unique_ptr<Sensor>> open_endpoint(const std::string& url, const PrometheusOptions& opts,
                                              const Clock& clock) {
  HttpOptions http_opts;
  http_opts.timeout_s = opts.timeout_s;
  http_opts.headers.emplace_back(kAcceptHeader);
  auto client = HttpClient::open(url, http_opts);
  if (!client) return client.error();
  HttpResponse resp;
  if (auto st = (*client)->get(resp); !st) return st.error();

  Inventory inv;
  if (auto st = parse_prometheus_text(resp.body, inv); !st)
    return make_error(Errc::kParse, url + ": malformed exposition: " + st.error().message);
  std::vector<std::pair<std::string, std::string>> facts;
  auto plan = choose_plan(inv, opts, facts);
  if (!plan) {
    std::string msg = url + ": no known energy or power metric (looked for " + kLookedFor + ")";
    if (inv.saw_dcgm) msg += "; the DCGM exporter's counters CSV must list one of its two fields";
    if (inv.saw_node)
      msg +=
          "; node exporter's rapl collector needs read access to /sys/class/powercap/*/energy_uj "
          "(root only since Linux 5.10) and a CPU with RAPL";
    if (inv.saw_kepler) msg += "; Kepler exposes node counters only with metricsLevel including node";
    return make_error(Errc::kUnsupported, msg);
  }
  for (auto& f : inv.facts) facts.push_back(std::move(f));
  if (!inv.kepler_components_source.empty())
    facts.emplace_back("kepler.components_power_source", inv.kepler_components_source);
  if (!inv.kepler_platform_source.empty())
    facts.emplace_back("kepler.platform_power_source", inv.kepler_platform_source);

  SensorInfo info;
  info.name = "prometheus";
  info.domain = "node:" + prometheus_endpoint_name(url);
  info.description = plan->exporter + " " + plan->summary + " at " + url;
  info.caps.energy_counter = plan->counter;
  info.caps.power = !plan->counter;
  info.caps.estimated = plan->estimated;
  info.caps.resolution_j = plan->resolution_j;
  info.caps.power_resolution_w = plan->power_resolution_w;
  info.caps.update_interval_s = plan->update_interval_s;
  info.caps.poll_interval_s = 1.0 / opts.max_scrape_hz;
  info.caps.in_total = true;

  auto sensor = std::make_unique<PrometheusSensor>(std::move(client).value(), std::move(*plan), std::move(info),
                                                   std::move(facts), opts, clock);
  // The scrape that chose the plan is also the first reading: it fixes the series set.
  auto first = sensor->ingest(resp.body, clock.now());
  if (!first) return first.error();
  if (first->rejected)
    return make_error(Errc::kParse, "the first scrape has an implausible value: " + *first->rejected);
  return std::unique_ptr<Sensor>(std::move(sensor));
}

}  // namespace

std::string prometheus_endpoint_name(const std::string& url) {
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return url;
  std::string scheme = url.substr(0, scheme_end);
  for (auto& c : scheme) c = static_cast<char>((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
  const std::size_t b = scheme_end + 3;
  std::string auth = url.substr(b, url.find_first_of("/?#", b) - b);
  if (const auto at = auth.rfind('@'); at != std::string::npos) auth.erase(0, at + 1);
  if (auth.empty()) return url;
  const std::size_t bracket = auth.rfind(']');
  const std::size_t colon = auth.rfind(':');
  const bool has_port = colon != std::string::npos && (bracket == std::string::npos || colon > bracket);
  if (!has_port) auth += scheme == "https" ? ":443" : ":80";
  return auth;
}

Result<std::vector<std::unique_ptr<Sensor>>> open_prometheus_sensors(const PrometheusOptions& opts, const Clock& clock,
                                                                     std::vector<SensorProblem>& problems) {
  if (opts.urls.empty()) return make_error(Errc::kInvalidArgument, "no exporter URL given (use --prometheus URL)");
  if (!(opts.max_scrape_hz > 0) || !std::isfinite(opts.max_scrape_hz))
    return make_error(Errc::kInvalidArgument, "prometheus: the scrape rate must be a positive number of Hz");
  if (!(opts.timeout_s > 0) || !std::isfinite(opts.timeout_s))
    return make_error(Errc::kInvalidArgument, "prometheus: the scrape timeout must be a positive number of seconds");
  if (!(opts.dcgm_interval_s >= 0) || !(opts.kepler_interval_s >= 0))
    return make_error(Errc::kInvalidArgument, "prometheus: exporter intervals must be >= 0 seconds");
  if (opts.series_max_power_w && !(*opts.series_max_power_w > 0 && std::isfinite(*opts.series_max_power_w)))
    return make_error(Errc::kInvalidArgument, "prometheus: the power bound must be a positive number of W");

  std::vector<std::unique_ptr<Sensor>> sensors;
  std::vector<Error> errors;
  for (const auto& url : opts.urls) {
    auto s = open_endpoint(url, opts, clock);
    if (!s) {
      problems.push_back({"prometheus", url, s.error()});
      errors.push_back(s.error());
      continue;
    }
    sensors.push_back(std::move(s).value());
  }
  if (!errors.empty()) {
    if (opts.urls.size() == 1) return errors.front();
    return make_error(errors.front().code, std::to_string(errors.size()) + " of " + std::to_string(opts.urls.size()) +
                                               " exporter endpoints failed; first: " + errors.front().message);
  }
  return sensors;
}

}  // namespace jouleperf
