// RAPL sensor against fake powercap trees laid out as the kernel lays out sysfs:
// zones live nested under /sys/devices/virtual/powercap/<control-type>/, and
// /sys/class/powercap holds a relative symlink to every zone and control type.
#include "jouleperf/sensor/rapl.hpp"

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/sensor/meter.hpp"
#include "jouleperf/sensor/rapl_zones.hpp"
#include "jouleperf/sensor/sampler.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

constexpr std::uint64_t kIntelRangeUj = 262143328850;  // 2^32 * 61035 nJ, as intel_rapl_common computes it

std::string zone_id(const std::string& control_type, const std::vector<int>& index) {
  std::string id = control_type;
  for (int i : index) {
    id += ':';
    id += std::to_string(i);
  }
  return id;
}

// A powercap tree in a TempDir. root() is <tmp>/sys/class/powercap.
class FakePowercap {
 public:
  struct Zone {
    std::string control_type = "intel-rapl";
    std::vector<int> index{};
    std::string name{};
    std::uint64_t energy_uj = 0;
    std::uint64_t max_energy_range_uj = kIntelRangeUj;
    std::optional<std::uint64_t> power_limit_uw{};
    bool enabled_file = true;
    bool class_symlink = true;  // the /sys/class/powercap/<id> link
  };

  std::string root() const { return (dir_.path() / "sys/class/powercap").string(); }
  std::string devices_root() const { return (dir_.path() / "sys/devices/virtual/powercap").string(); }
  const TempDir& dir() const { return dir_; }

  // Relative path of a zone's real directory below the TempDir.
  static std::string real_rel(const std::string& control_type, const std::vector<int>& index) {
    std::string rel = "sys/devices/virtual/powercap/" + control_type;
    for (std::size_t depth = 1; depth <= index.size(); ++depth) {
      rel += '/';
      rel += zone_id(control_type, std::vector<int>(index.begin(), index.begin() + depth));
    }
    return rel;
  }

  void add(const Zone& z) {
    const std::string id = zone_id(z.control_type, z.index);
    const std::string rel = real_rel(z.control_type, z.index);
    dir_.write(rel + "/name", z.name + "\n");
    dir_.write(rel + "/energy_uj", std::to_string(z.energy_uj) + "\n");
    dir_.write(rel + "/max_energy_range_uj", std::to_string(z.max_energy_range_uj) + "\n");
    if (z.enabled_file) dir_.write(rel + "/enabled", "0\n");
    if (z.power_limit_uw) {
      dir_.write(rel + "/constraint_0_power_limit_uw", std::to_string(*z.power_limit_uw) + "\n");
      dir_.write(rel + "/constraint_0_name", "long_term\n");
    }
    const fs::path cls = dir_.path() / "sys/class/powercap";
    fs::create_directories(cls);
    // Real zone directories carry a `subsystem` link back to the class: discovery must not loop.
    fs::create_directory_symlink(cls, dir_.path() / rel / "subsystem");
    const fs::path ct_link = cls / z.control_type;
    if (!fs::is_symlink(ct_link)) {
      dir_.write("sys/devices/virtual/powercap/" + z.control_type + "/enabled", "1\n");
      fs::create_directory_symlink("../../devices/virtual/powercap/" + z.control_type, ct_link);
    }
    // As in sysfs: /sys/class/powercap/intel-rapl:0 -> ../../devices/virtual/powercap/intel-rapl/intel-rapl:0
    if (z.class_symlink) fs::create_directory_symlink("../../" + rel.substr(std::string("sys/").size()), cls / id);
  }

  // The zone's energy_uj as reached through the class symlink.
  std::string energy_file(const std::string& id) const { return root() + "/" + id + "/energy_uj"; }
  // Rewrites energy_uj in place (same inode, as sysfs regenerates it).
  void set_energy(const std::string& id, std::uint64_t v) const {
    std::ofstream(energy_file(id), std::ios::trunc) << v << "\n";
  }

 private:
  TempDir dir_;
};

// A client laptop: package with core, uncore and dram, psys, and the MMIO package zone.
void add_client_zones(FakePowercap& pc) {
  pc.add({.index = {0}, .name = "package-0", .energy_uj = 1000, .power_limit_uw = 28000000});
  pc.add({.index = {0, 0}, .name = "core", .energy_uj = 400, .enabled_file = false});
  pc.add({.index = {0, 1}, .name = "uncore", .energy_uj = 50});
  pc.add({.index = {0, 2}, .name = "dram", .energy_uj = 200});
  pc.add({.index = {1}, .name = "psys", .energy_uj = 5000, .enabled_file = false});
  pc.add({.control_type = "intel-rapl-mmio", .index = {0}, .name = "package-0", .energy_uj = 1001});
}

std::map<std::string, const Sensor*> by_domain(const std::vector<std::unique_ptr<Sensor>>& sensors) {
  std::map<std::string, const Sensor*> m;
  for (const auto& s : sensors) m[s->info().domain] = s.get();
  return m;
}

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

RaplOptions rapl_opts(const std::string& root) {
  RaplOptions o;
  o.powercap_root = root;
  return o;
}

TEST(RaplZoneId, ParsesKernelNamesAndRejectsOthers) {
  auto a = parse_rapl_zone_id("intel-rapl:0");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->interface, RaplInterface::kMsr);
  EXPECT_EQ(a->index, (std::vector<std::uint32_t>{0}));
  auto b = parse_rapl_zone_id("intel-rapl:1:2");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->index, (std::vector<std::uint32_t>{1, 2}));
  auto c = parse_rapl_zone_id("intel-rapl-mmio:0");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->interface, RaplInterface::kMmio);
  for (const char* bad : {"intel-rapl", "intel-rapl-mmio", "intel-rapl:", "intel-rapl:a",
                          "intel-rapl:0:", "intel-rapl:-1", "intel-rapl::0", "dtpm:0", "subsystem", "intel-rapl:0x1"}) {
    auto r = parse_rapl_zone_id(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.error().code, Errc::kParse) << bad;
    }
  }
}

TEST(RaplDiscovery, ClassLayoutFindsEveryZoneOnceWithDomains) {
  FakePowercap pc;
  add_client_zones(pc);
  std::vector<SensorProblem> problems;
  auto zones = find_rapl_zones(pc.root(), problems);
  ASSERT_TRUE(zones.ok()) << zones.error().to_string();
  EXPECT_TRUE(problems.empty());
  ASSERT_EQ(zones->size(), 6u);
  std::map<std::string, const RaplZone*> ids;
  for (const auto& z : *zones) {
    EXPECT_TRUE(ids.emplace(z.id, &z).second) << "zone listed twice: " << z.id;
    // The top-level symlink is the reported path, the nested directory the real one.
    EXPECT_EQ(z.path, pc.root() + "/" + z.id);
  }
  EXPECT_EQ(ids.at("intel-rapl:0:2")->real_path,
            fs::canonical(pc.dir().path() / FakePowercap::real_rel("intel-rapl", {0, 2})).string());

  ManualClock clock;
  problems.clear();
  auto sensors = open_rapl_sensors(rapl_opts(pc.root()), clock, problems);
  ASSERT_TRUE(sensors.ok()) << sensors.error().to_string();
  EXPECT_TRUE(problems.empty());
  ASSERT_EQ(sensors->size(), 6u);
  const auto m = by_domain(*sensors);
  ASSERT_EQ(m.size(), 6u) << "two sensors share a domain";
  const std::map<std::string, bool> want_in_total{
      {"cpu-package:0", true}, {"cpu-core:0", false}, {"cpu-uncore:0", false},
      {"dram:0", true},        {"psys:0", false},     {"cpu-package-mmio:0", false},
  };
  for (const auto& [domain, in_total] : want_in_total) {
    ASSERT_TRUE(m.count(domain)) << domain;
    const SensorInfo& info = m.at(domain)->info();
    EXPECT_EQ(info.name, "rapl");
    EXPECT_EQ(info.caps.in_total, in_total) << domain;
    EXPECT_TRUE(info.caps.energy_counter);
    EXPECT_FALSE(info.caps.power);
    EXPECT_FALSE(info.caps.estimated);
    EXPECT_DOUBLE_EQ(info.caps.resolution_j, 1e-6);
    EXPECT_DOUBLE_EQ(info.caps.update_interval_s, 0.001);
  }
  EXPECT_TRUE(contains(m.at("cpu-package-mmio:0")->info().description, "intel-rapl:0"));
}

TEST(RaplDiscovery, NestedDirectoriesWithTopLevelSymlinks) {
  // The simplest copy of a powercap tree: real nested directories under the root and
  // a top-level symlink for the subzone; plus a subzone reachable only by nesting.
  TempDir dir;
  for (const auto& [rel, name] :
       std::vector<std::pair<std::string, std::string>>{{"intel-rapl:0", "package-0"},
                                                        {"intel-rapl:0/intel-rapl:0:0", "core"},
                                                        {"intel-rapl:0/intel-rapl:0:1", "dram"}}) {
    dir.write(rel + "/name", name + "\n");
    dir.write(rel + "/energy_uj", "10\n");
    dir.write(rel + "/max_energy_range_uj", "1000000\n");
  }
  fs::create_directory_symlink("intel-rapl:0/intel-rapl:0:0", dir.path() / "intel-rapl:0:0");
  ManualClock clock;
  std::vector<SensorProblem> problems;
  auto sensors = open_rapl_sensors(rapl_opts(dir.path().string()), clock, problems);
  ASSERT_TRUE(sensors.ok()) << sensors.error().to_string();
  EXPECT_TRUE(problems.empty());
  const auto m = by_domain(*sensors);
  EXPECT_EQ(sensors->size(), 3u);
  EXPECT_EQ(m.size(), 3u);
  EXPECT_TRUE(m.count("cpu-package:0") && m.count("cpu-core:0") && m.count("dram:0"));
}

TEST(RaplDiscovery, DevicesRootAndMultiSocketDomains) {
  FakePowercap pc;
  pc.add({.index = {0}, .name = "package-0", .energy_uj = 1});
  pc.add({.index = {0, 0}, .name = "dram", .energy_uj = 2});
  pc.add({.index = {1}, .name = "package-1", .energy_uj = 3});
  pc.add({.index = {1, 0}, .name = "dram", .energy_uj = 4, .class_symlink = false});
  pc.add({.index = {2}, .name = "package-1-die-1", .energy_uj = 5});
  pc.add({.index = {2, 0}, .name = "core", .energy_uj = 6});
  ManualClock clock;
  for (const std::string& root : {pc.root(), pc.devices_root()}) {
    std::vector<SensorProblem> problems;
    auto sensors = open_rapl_sensors(rapl_opts(root), clock, problems);
    ASSERT_TRUE(sensors.ok()) << root << ": " << sensors.error().to_string();
    const auto m = by_domain(*sensors);
    EXPECT_EQ(sensors->size(), 6u) << root;
    for (const char* d :
         {"cpu-package:0", "dram:0", "cpu-package:1", "dram:1", "cpu-package:1-die-1", "cpu-core:1-die-1"})
      EXPECT_TRUE(m.count(d)) << root << " lacks " << d;
  }
}

TEST(RaplDiscovery, MmioZoneAloneCountsInTheTotal) {
  FakePowercap pc;
  pc.add({.control_type = "intel-rapl-mmio", .index = {0}, .name = "package-0", .energy_uj = 7});
  ManualClock clock;
  std::vector<SensorProblem> problems;
  auto sensors = open_rapl_sensors(rapl_opts(pc.root()), clock, problems);
  ASSERT_TRUE(sensors.ok()) << sensors.error().to_string();
  ASSERT_EQ(sensors->size(), 1u);
  EXPECT_EQ(sensors->front()->info().domain, "cpu-package:0");
  EXPECT_TRUE(sensors->front()->info().caps.in_total);
}

TEST(RaplSensor, UnwrapsAcrossMaxEnergyRange) {
  FakePowercap pc;
  pc.add({.index = {0}, .name = "package-0", .energy_uj = 999000, .max_energy_range_uj = 1000000});
  ManualClock clock(Seconds(5.0));
  std::vector<SensorProblem> problems;
  auto sensors = open_rapl_sensors(rapl_opts(pc.root()), clock, problems);
  ASSERT_TRUE(sensors.ok()) << sensors.error().to_string();
  Sensor& s = *sensors->front();

  auto r0 = s.read();
  ASSERT_TRUE(r0.ok()) << r0.error().to_string();
  EXPECT_DOUBLE_EQ(r0->t.value(), 5.0);
  ASSERT_TRUE(r0->energy.has_value());
  EXPECT_FALSE(r0->power.has_value());
  const double e0 = r0->energy->value();

  pc.set_energy("intel-rapl:0", 500);  // wrapped: 1000 uJ to the top, then 500
  clock.advance(Seconds(1.0));
  auto r1 = s.read();
  ASSERT_TRUE(r1.ok()) << r1.error().to_string();
  EXPECT_NEAR(r1->energy->value() - e0, 1500e-6, 1e-12);

  pc.set_energy("intel-rapl:0", 2000);
  clock.advance(Seconds(1.0));
  auto r2 = s.read();
  ASSERT_TRUE(r2.ok()) << r2.error().to_string();
  EXPECT_NEAR(r2->energy->value() - e0, 3000e-6, 1e-12);
  EXPECT_DOUBLE_EQ(r2->t.value(), 7.0);

  const auto cond = s.conditions();
  std::map<std::string, std::string> c(cond.begin(), cond.end());
  EXPECT_EQ(c["max_energy_range_uj"], "1000000");
  EXPECT_EQ(c["counter_wraps"], "1");
  EXPECT_EQ(c["zone"], "intel-rapl:0");
  EXPECT_EQ(c["name"], "package-0");
  EXPECT_EQ(c["path"], pc.root() + "/intel-rapl:0");
  EXPECT_EQ(c.count("constraint_0_power_limit_uw"), 0u);  // not in this zone: omitted, not zero
}

TEST(RaplSensor, ConditionsCarryThePowerLimit) {
  FakePowercap pc;
  add_client_zones(pc);
  ManualClock clock;
  std::vector<SensorProblem> problems;
  auto sensors = open_rapl_sensors(rapl_opts(pc.root()), clock, problems);
  ASSERT_TRUE(sensors.ok());
  auto m = by_domain(*sensors);
  auto cond = const_cast<Sensor*>(m.at("cpu-package:0"))->conditions();
  std::map<std::string, std::string> c(cond.begin(), cond.end());
  EXPECT_EQ(c["constraint_0_power_limit_uw"], "28000000");
  EXPECT_EQ(c["constraint_0_name"], "long_term");
  EXPECT_EQ(c["max_energy_range_uj"], std::to_string(kIntelRangeUj));
  EXPECT_EQ(c["interface"], "msr");
}

TEST(RaplSensor, MeterEnergyEqualsCounterDeltaAcrossAWrap) {
  FakePowercap pc;
  pc.add({.index = {0}, .name = "package-0", .energy_uj = 999000, .max_energy_range_uj = 1000000});
  pc.add({.index = {0, 0}, .name = "core", .energy_uj = 100, .max_energy_range_uj = 1000000});
  pc.add({.index = {0, 1}, .name = "dram", .energy_uj = 10000, .max_energy_range_uj = 1000000});
  ManualClock clock(Seconds(100.0));
  std::vector<SensorProblem> problems;
  auto sensors = open_rapl_sensors(rapl_opts(pc.root()), clock, problems);
  ASSERT_TRUE(sensors.ok()) << sensors.error().to_string();
  Sampler sampler(std::move(sensors).value(), SamplerConfig{}, clock);
  ASSERT_TRUE(sampler.start(false).ok());
  Meter meter(sampler);
  ASSERT_TRUE(meter.start().ok());

  pc.set_energy("intel-rapl:0", 500);
  pc.set_energy("intel-rapl:0:0", 600);
  pc.set_energy("intel-rapl:0:1", 30000);
  clock.advance(Seconds(1.0));
  sampler.snapshot();
  pc.set_energy("intel-rapl:0", 2000);
  pc.set_energy("intel-rapl:0:0", 900);
  pc.set_energy("intel-rapl:0:1", 50000);
  clock.advance(Seconds(1.0));
  auto m = meter.stop();
  ASSERT_TRUE(m.ok()) << m.error().to_string();

  std::map<std::string, DomainEnergy> d;
  for (const auto& de : m->total.domains) d[de.domain] = de;
  EXPECT_NEAR(d.at("cpu-package:0").energy_j, 3000e-6, 1e-12);  // (1e6 - 999000) + 2000
  EXPECT_NEAR(d.at("cpu-core:0").energy_j, 800e-6, 1e-12);
  EXPECT_NEAR(d.at("dram:0").energy_j, 40000e-6, 1e-12);
  EXPECT_FALSE(d.at("cpu-core:0").in_total);
  // The total counts package and DRAM, not the core sub-domain.
  EXPECT_NEAR(m->total.energy_j, 43000e-6, 1e-12);
  EXPECT_DOUBLE_EQ(m->total.duration_s, 2.0);
  EXPECT_EQ(m->total.energy_source, "counter");
  EXPECT_FALSE(m->total.estimated);
  EXPECT_EQ(d.at("cpu-package:0").failed_reads, 0u);
}

TEST(HostileRaplSensor, BoundFromConstraintMaxPowerElseADefaultPerDomain) {
  FakePowercap pc;
  add_client_zones(pc);
  const std::string pkg = FakePowercap::real_rel("intel-rapl", {0});
  pc.dir().write(pkg + "/constraint_0_max_power_uw", "65000000\n");   // 65 W long term
  pc.dir().write(pkg + "/constraint_1_max_power_uw", "0\n");          // unknown: ignored
  pc.dir().write(pkg + "/constraint_2_max_power_uw", "125000000\n");  // 125 W peak
  pc.dir().write(FakePowercap::real_rel("intel-rapl", {0, 2}) + "/constraint_0_max_power_uw", "1\n");  // 1 uW
  ManualClock clock;
  std::vector<SensorProblem> problems;
  auto sensors = open_rapl_sensors(rapl_opts(pc.root()), clock, problems);
  ASSERT_TRUE(sensors.ok()) << sensors.error().to_string();
  const auto m = by_domain(*sensors);
  EXPECT_DOUBLE_EQ(m.at("cpu-package:0")->info().caps.max_power_w, 500.0);  // 4 x 125 W
  EXPECT_DOUBLE_EQ(m.at("dram:0")->info().caps.max_power_w, 100.0);         // floor: a bogus tiny maximum
  EXPECT_DOUBLE_EQ(m.at("cpu-core:0")->info().caps.max_power_w, 1000.0);
  EXPECT_DOUBLE_EQ(m.at("cpu-uncore:0")->info().caps.max_power_w, 1000.0);
  EXPECT_DOUBLE_EQ(m.at("psys:0")->info().caps.max_power_w, 5000.0);
  EXPECT_DOUBLE_EQ(m.at("cpu-package-mmio:0")->info().caps.max_power_w, 1000.0);
  auto cond = const_cast<Sensor*>(m.at("cpu-package:0"))->conditions();
  std::map<std::string, std::string> c(cond.begin(), cond.end());
  EXPECT_EQ(c["max_power_w"], "500");
  EXPECT_TRUE(contains(c["max_power_basis"], "constraint")) << c["max_power_basis"];

  RaplOptions given = rapl_opts(pc.root());
  given.max_power_w = 42.0;
  auto all = open_rapl_sensors(given, clock, problems);
  ASSERT_TRUE(all.ok());
  for (const auto& sp : *all) EXPECT_DOUBLE_EQ(sp->info().caps.max_power_w, 42.0) << sp->info().domain;
  given.max_power_w = 0.0;
  EXPECT_EQ(open_rapl_sensors(given, clock, problems).error().code, Errc::kInvalidArgument);
}

TEST(HostileRaplSensor, ImplausibleDecreaseIsRejectedThenReBasedAndTheMeasurementSaysSo) {
  FakePowercap pc;
  pc.add({.index = {0}, .name = "package-0", .energy_uj = 50'000'000});
  ManualClock clock(Seconds(10.0));
  std::vector<SensorProblem> problems;
  auto sensors = open_rapl_sensors(rapl_opts(pc.root()), clock, problems);
  ASSERT_TRUE(sensors.ok()) << sensors.error().to_string();
  Sampler sampler(std::move(sensors).value(), SamplerConfig{}, clock);
  ASSERT_TRUE(sampler.start(false).ok());
  Meter meter(sampler);
  ASSERT_TRUE(meter.start().ok());

  pc.set_energy("intel-rapl:0", 60'000'000);  // +10 J in 1 s
  clock.advance(Seconds(1.0));
  sampler.snapshot();
  pc.set_energy("intel-rapl:0", 1'000'000);  // down 59 J: a wrap would be 262 kJ in 1 s
  clock.advance(Seconds(1.0));
  auto rejected = sampler.snapshot();
  EXPECT_FALSE(rejected[0].fresh);
  EXPECT_EQ(rejected[0].reads_rejected, 1u);
  EXPECT_EQ(rejected[0].reads_failed, 0u);
  EXPECT_NEAR(rejected[0].energy.value(), 10.0, 1e-9);  // the last good value, not a wrap
  ASSERT_TRUE(rejected[0].last_rejection.has_value());
  EXPECT_TRUE(contains(*rejected[0].last_rejection, "energy_uj")) << *rejected[0].last_rejection;

  pc.set_energy("intel-rapl:0", 21'000'000);  // +20 J from the new base: it really moved
  clock.advance(Seconds(1.0));
  auto m = meter.stop();
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  const DomainEnergy& d = m->total.domains[0];
  EXPECT_NEAR(d.energy_j, 30.0, 1e-9);  // 10 J before, 20 J after; the gap is not guessed
  EXPECT_EQ(d.rejected_reads, 1u);
  EXPECT_EQ(d.counter_gaps, 1u);
  EXPECT_DOUBLE_EQ(d.gap_s, 1.0);
  EXPECT_TRUE(d.incomplete);
  EXPECT_FALSE(d.stale_end);
  EXPECT_TRUE(m->total.incomplete);
  EXPECT_EQ(m->total.rejected_reads, 1u);
  EXPECT_TRUE(contains(d.rejection, "wrap")) << d.rejection;
}

TEST(RaplSensor, MissingRootIsNotFound) {
  TempDir dir;
  const std::string root = (dir.path() / "no-such-powercap").string();
  ManualClock clock;
  std::vector<SensorProblem> problems;
  auto r = open_rapl_sensors(rapl_opts(root), clock, problems);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kNotFound);
  EXPECT_TRUE(contains(r.error().message, root)) << r.error().message;
  EXPECT_TRUE(contains(r.error().message, "intel_rapl_msr")) << r.error().message;
  EXPECT_TRUE(contains(r.error().message, "Virtual machines")) << r.error().message;

  // A root without RAPL zones (another powercap driver only) is the same.
  dir.write("no-rapl/dtpm/enabled", "1\n");
  dir.write("no-rapl/intel-rapl/enabled", "1\n");  // control type registered, no zone
  auto e = open_rapl_sensors(rapl_opts((dir.path() / "no-rapl").string()), clock, problems);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code, Errc::kNotFound);
  EXPECT_TRUE(contains(e.error().message, "no RAPL zone")) << e.error().message;
}

TEST(RaplSensor, MalformedEnergyIsAParseErrorNamingTheFile) {
  FakePowercap pc;
  pc.add({.index = {0}, .name = "package-0", .energy_uj = 1});
  pc.dir().write(FakePowercap::real_rel("intel-rapl", {0}) + "/energy_uj", "12abc\n");
  ManualClock clock;
  std::vector<SensorProblem> problems;
  auto r = open_rapl_sensors(rapl_opts(pc.root()), clock, problems);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kParse);
  EXPECT_TRUE(contains(r.error().message, pc.energy_file("intel-rapl:0"))) << r.error().message;
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].error.code, Errc::kParse);
  EXPECT_EQ(problems[0].target, pc.root() + "/intel-rapl:0");
}

TEST(RaplSensor, BadZonesBecomeProblemsWhileGoodOnesWork) {
  FakePowercap pc;
  pc.add({.index = {0}, .name = "package-0", .energy_uj = 1});
  pc.add({.index = {1}, .name = "package-1", .energy_uj = 1});
  pc.add({.index = {2}, .name = "", .energy_uj = 1});
  pc.dir().write(FakePowercap::real_rel("intel-rapl", {1}) + "/max_energy_range_uj", "-5\n");
  ManualClock clock;
  std::vector<SensorProblem> problems;
  auto r = open_rapl_sensors(rapl_opts(pc.root()), clock, problems);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ(r->front()->info().domain, "cpu-package:0");
  ASSERT_EQ(problems.size(), 2u);
  for (const auto& p : problems) {
    EXPECT_EQ(p.name, "rapl");
    EXPECT_EQ(p.error.code, Errc::kParse) << p.error.message;
  }
  EXPECT_TRUE(contains(problems[0].error.message + problems[1].error.message, "max_energy_range_uj"));
}

TEST(RaplSensor, ZoneThatDisappearsMidRunIsAReadError) {
  FakePowercap pc;
  pc.add({.index = {0}, .name = "package-0", .energy_uj = 1000});
  ManualClock clock;
  std::vector<SensorProblem> problems;
  auto sensors = open_rapl_sensors(rapl_opts(pc.root()), clock, problems);
  ASSERT_TRUE(sensors.ok());
  Sampler sampler(std::move(sensors).value(), SamplerConfig{}, clock);
  ASSERT_TRUE(sampler.start(false).ok());
  pc.set_energy("intel-rapl:0", 3000);
  clock.advance(Seconds(1.0));
  auto before = sampler.snapshot();
  ASSERT_TRUE(before[0].fresh);
  EXPECT_NEAR(before[0].energy.value(), 2000e-6, 1e-12);

  fs::remove_all(pc.dir().path() / FakePowercap::real_rel("intel-rapl", {0}));  // driver unloaded
  clock.advance(Seconds(1.0));
  auto after = sampler.snapshot();
  EXPECT_FALSE(after[0].fresh);
  ASSERT_TRUE(after[0].last_error.has_value());
  EXPECT_EQ(after[0].last_error->code, Errc::kNotFound);
  EXPECT_TRUE(contains(after[0].last_error->message, "energy_uj")) << after[0].last_error->message;
  EXPECT_EQ(after[0].energy.value(), before[0].energy.value());  // last good value kept, no zero
  EXPECT_EQ(after[0].reads_failed, 1u);
}

// Runs `check` in a child that has dropped to nobody (65534); returns its exit status.
template <class F>
int run_as_nobody(F check) {
  const pid_t pid = fork();
  if (pid == 0) {
    if (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0) _exit(100);
    _exit(check());
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void open_up_tree(const fs::path& top) {
  fs::permissions(top, fs::perms(0755));
  for (const auto& e : fs::recursive_directory_iterator(top)) {
    if (e.is_symlink()) continue;
    fs::permissions(e.path(), e.is_directory() ? fs::perms(0755) : fs::perms(0644));
  }
}

// As root: energy_uj mode 0400 owned by root (as Linux >= 5.10 ships it), checked in a
// child that dropped to nobody. As another user: mode 0000 on the user's own file.
TEST(RaplSensor, UnreadableEnergyIsPermissionDeniedWithTheFix) {
  const bool as_root = geteuid() == 0;
  FakePowercap all_denied;
  all_denied.add({.index = {0}, .name = "package-0", .energy_uj = 1});
  all_denied.add({.index = {0, 0}, .name = "core", .energy_uj = 1});
  FakePowercap one_denied;
  one_denied.add({.index = {0}, .name = "package-0", .energy_uj = 1});
  one_denied.add({.index = {1}, .name = "package-1", .energy_uj = 1});
  open_up_tree(all_denied.dir().path());
  open_up_tree(one_denied.dir().path());
  for (const std::string& f : {all_denied.energy_file("intel-rapl:0"), all_denied.energy_file("intel-rapl:0:0"),
                               one_denied.energy_file("intel-rapl:1")}) {
    ASSERT_EQ(chmod(f.c_str(), as_root ? 0400 : 0000), 0);
    struct stat st {};
    ASSERT_EQ(stat(f.c_str(), &st), 0);
    if (as_root) {
      ASSERT_EQ(st.st_uid, 0u);
    }
  }

  auto check = [&]() -> int {
    const std::string f = all_denied.energy_file("intel-rapl:0");
    const int fd = ::open(f.c_str(), O_RDONLY);
    if (fd >= 0) ::close(fd);
    if (fd >= 0 || errno != EACCES) return 99;  // access was not denied: the test would prove nothing
    ManualClock clock;
    std::vector<SensorProblem> problems;
    auto r = open_rapl_sensors(rapl_opts(all_denied.root()), clock, problems);
    if (r.ok()) return 1;
    if (r.error().code != Errc::kPermissionDenied) return 2;
    const std::string& msg = r.error().message;
    if (!contains(msg, f) || !contains(msg, "chmod o+r") || !contains(msg, "docs/sensors.md")) return 3;
    if (problems.size() != 2) return 4;
    for (const auto& p : problems)
      if (p.error.code != Errc::kPermissionDenied || !contains(p.error.message, "udev rule")) return 5;

    std::vector<SensorProblem> p2;
    auto partial = open_rapl_sensors(rapl_opts(one_denied.root()), clock, p2);
    if (!partial.ok() || partial->size() != 1) return 6;
    if (partial->front()->info().domain != "cpu-package:0") return 7;
    if (p2.size() != 1 || p2[0].error.code != Errc::kPermissionDenied) return 8;
    if (!contains(p2[0].error.message, one_denied.energy_file("intel-rapl:1"))) return 9;
    return 0;
  };
  const int status = as_root ? run_as_nobody(check) : check();
  EXPECT_EQ(status, 0) << "permission check failed with code " << status << (as_root ? " (in the child)" : "");
}

}  // namespace
}  // namespace jouleperf
