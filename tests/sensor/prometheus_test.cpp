// The Prometheus sensor against local exporters on 127.0.0.1 (tests/support/http_server):
// what it picks, the energy it reports through the Sampler and Meter, and its errors.
#include "jouleperf/sensor/prometheus.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/sensor/factory.hpp"
#include "jouleperf/sensor/meter.hpp"
#include "jouleperf/sensor/sampler.hpp"
#include "sensor/prometheus_fixtures.hpp"
#include "support/http_server.hpp"

namespace jouleperf {
namespace {

using testing::DcgmGpu;
using testing::HttpReply;
using testing::HttpRequest;
using testing::HttpServer;
using testing::RaplZones;

// A fake exporter whose exposition, status and behaviour the test sets between scrapes.
class Exporter {
 public:
  explicit Exporter(std::string body = "")
      : body_(std::move(body)), server_([this](const HttpRequest& req) { return answer(req); }) {}

  void set(std::string body) {
    std::lock_guard<std::mutex> lock(mu_);
    body_ = std::move(body);
  }
  void set_status(int status) {
    std::lock_guard<std::mutex> lock(mu_);
    status_ = status;
  }
  std::string url() const { return server_.url("/metrics"); }
  HttpServer& server() { return server_; }
  std::string last_accept() {
    std::lock_guard<std::mutex> lock(mu_);
    return accept_;
  }

 private:
  HttpReply answer(const HttpRequest& req) {
    std::lock_guard<std::mutex> lock(mu_);
    accept_ = req.header("Accept").value_or("");
    HttpReply r;
    r.status = req.path() == "/metrics" ? status_ : 404;
    r.body = status_ == 200 ? body_ : "exporter failure: collector rapl failed";
    return r;
  }

  std::mutex mu_;
  std::string body_;
  int status_ = 200;
  std::string accept_;
  HttpServer server_;  // last: stops (and joins its threads) before the state above goes away
};

PrometheusOptions options(std::vector<std::string> urls) {
  PrometheusOptions o;
  o.urls = std::move(urls);
  o.timeout_s = 30.0;  // the local exporters answer at once: this only bounds a hang
  return o;
}

std::string condition(Sensor& s, const std::string& key) {
  for (const auto& [k, v] : s.conditions())
    if (k == key) return v;
  return "<absent>";
}

TEST(PrometheusSensor, TwoNodesEnergyThroughSamplerAndMeter) {
  // Node 1: DCGM exporter with two GPUs. Node 2: node exporter with RAPL.
  Exporter dcgm(testing::dcgm_exposition({{1'000'000, 110.0, ""}, {2'000'000, 320.0, ""}}));
  RaplZones z0{5000.0, 7000.0, 800.0, 3000.0, 20000.0};
  Exporter node(testing::node_exposition(z0));
  ManualClock clock(Seconds(100.0));
  std::vector<SensorProblem> problems;
  auto opened = open_prometheus_sensors(options({dcgm.url(), node.url()}), clock, problems);
  ASSERT_TRUE(opened.ok()) << opened.error().to_string();
  EXPECT_TRUE(problems.empty());
  ASSERT_EQ(opened->size(), 2u);

  const SensorInfo& gi = (*opened)[0]->info();
  EXPECT_EQ(gi.name, "prometheus");
  EXPECT_EQ(gi.domain, "node:127.0.0.1:" + std::to_string(dcgm.server().port()));
  EXPECT_TRUE(gi.caps.energy_counter);
  EXPECT_FALSE(gi.caps.power);
  EXPECT_FALSE(gi.caps.estimated);
  EXPECT_DOUBLE_EQ(gi.caps.resolution_j, 1e-3);
  EXPECT_DOUBLE_EQ(gi.caps.update_interval_s, 30.0);  // dcgm-exporter's default collect interval
  EXPECT_DOUBLE_EQ(gi.caps.poll_interval_s, 0.1);
  EXPECT_NE(gi.description.find("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"), std::string::npos);
  const SensorInfo& ni = (*opened)[1]->info();
  EXPECT_EQ(ni.domain, "node:127.0.0.1:" + std::to_string(node.server().port()));
  EXPECT_DOUBLE_EQ(ni.caps.update_interval_s, 0.0);
  EXPECT_NE(ni.description.find("package+dram"), std::string::npos) << ni.description;

  Sampler sampler(std::move(opened).value(), SamplerConfig{}, clock);
  EXPECT_DOUBLE_EQ(sampler.period_s(0), 0.1);  // capped at 10 Hz
  ASSERT_TRUE(sampler.start(false).ok());
  Meter meter(sampler);
  ASSERT_TRUE(meter.start("prefill").ok());

  // Prefill: 4 s. GPU0 +600 J, GPU1 +1400 J; package0 +300 J, package1 +250 J, dram +40 J
  // (core, psys and the mmio view of package 0 move too and must not count).
  dcgm.set(testing::dcgm_exposition({{1'600'000, 150.0, ""}, {3'400'000, 350.0, ""}}));
  RaplZones z1{5300.0, 7250.0, 840.0, 3200.0, 20900.0};
  node.set(testing::node_exposition(z1));
  clock.advance(Seconds(4.0));
  ASSERT_TRUE(meter.mark("decode").ok());

  // Decode: 6 s. GPU0 +123.456 J, GPU1 +0.001 J; package0 +60.5 J, package1 0, dram +0.25 J.
  dcgm.set(testing::dcgm_exposition({{1'723'456, 150.0, ""}, {3'400'001, 350.0, ""}}));
  RaplZones z2{5360.5, 7250.0, 840.25, 3300.0, 21000.0};
  node.set(testing::node_exposition(z2));
  clock.advance(Seconds(6.0));
  auto m = meter.stop();
  ASSERT_TRUE(m.ok()) << m.error().to_string();

  ASSERT_EQ(m->total.domains.size(), 2u);
  const DomainEnergy& gpu = m->total.domains[0];
  const DomainEnergy& cpu = m->total.domains[1];
  EXPECT_EQ(gpu.sensor, "prometheus");
  EXPECT_EQ(gpu.source, EnergySource::kCounter);
  EXPECT_NEAR(gpu.energy_j, 600.0 + 1400.0 + 123.456 + 0.001, 1e-9);
  EXPECT_NEAR(cpu.energy_j, 300.0 + 250.0 + 40.0 + 60.5 + 0.25, 1e-6);
  EXPECT_NEAR(m->total.energy_j, gpu.energy_j + cpu.energy_j, 1e-9);
  EXPECT_DOUBLE_EQ(m->total.duration_s, 10.0);
  EXPECT_TRUE(gpu.below_resolution);   // 10 s < DCGM's 30 s collect interval: not a precise figure
  EXPECT_FALSE(cpu.below_resolution);  // RAPL is read at scrape time

  ASSERT_EQ(m->phases.size(), 2u);
  EXPECT_EQ(m->phases[0].name, "prefill");
  EXPECT_NEAR(m->phases[0].domains[0].energy_j, 2000.0, 1e-9);
  EXPECT_NEAR(m->phases[0].domains[1].energy_j, 590.0, 1e-6);
  EXPECT_NEAR(m->phases[1].domains[0].energy_j, 123.457, 1e-9);
  EXPECT_NEAR(m->phases[1].domains[1].energy_j, 60.75, 1e-6);

  // Per-GPU breakdown and facts, prefixed by domain.
  const auto conds = sampler.conditions();
  const std::string gd = gi.domain;
  auto cond = [&](const std::string& k) {
    for (const auto& [key, v] : conds)
      if (key == k) return v;
    return std::string("<absent>");
  };
  EXPECT_EQ(cond(gd + ".exporter"), "dcgm-exporter");
  EXPECT_EQ(cond(gd + ".gpu0.model"), "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(cond(gd + ".hostname"), "gpu-node-1");
  EXPECT_EQ(cond(gd + ".gpu0.energy_j"), "723.456");  // since open
  EXPECT_EQ(cond(gd + ".gpu1.energy_j"), "1400.001");
  EXPECT_EQ(cond(ni.domain + ".exporter"), "node-exporter");
  EXPECT_EQ(cond(ni.domain + ".package:1.energy_j"), "250");
  EXPECT_EQ(cond(ni.domain + ".series"), "3");

  EXPECT_EQ(dcgm.last_accept().rfind("text/plain;version=0.0.4", 0), 0u);
  // Keep-alive: every scrape of a node reused one connection.
  EXPECT_EQ(dcgm.server().connections(), 1u);
  EXPECT_GE(dcgm.server().requests(), 5u);
}

TEST(PrometheusSensor, CounterResetCountsLikeIncrease) {
  Exporter dcgm(testing::dcgm_exposition({{1'000'000, 100, ""}, {5'000'000, 100, ""}}));
  ManualClock clock;
  std::vector<SensorProblem> problems;
  auto opened = open_prometheus_sensors(options({dcgm.url()}), clock, problems);
  ASSERT_TRUE(opened.ok()) << opened.error().to_string();
  Sampler sampler(std::move(opened).value(), SamplerConfig{}, clock);
  ASSERT_TRUE(sampler.start(false).ok());
  Meter meter(sampler);
  ASSERT_TRUE(meter.start().ok());

  dcgm.set(testing::dcgm_exposition({{1'500'000, 100, ""}, {5'100'000, 100, ""}}));  // +500 J, +100 J
  clock.advance(Seconds(1));
  sampler.poll_due();
  // GPU0's counter restarts (driver reload) while GPU1 keeps counting. Like increase(),
  // the restarted series counts its new value from zero.
  dcgm.set(testing::dcgm_exposition({{200'000, 100, ""}, {5'200'000, 100, ""}}));  // +200 J (from 0), +100 J
  clock.advance(Seconds(1));
  sampler.poll_due();
  dcgm.set(testing::dcgm_exposition({{300'000, 100, ""}, {5'300'000, 100, ""}}));  // +100 J, +100 J
  clock.advance(Seconds(1));
  auto m = meter.stop();
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_NEAR(m->total.energy_j, 500 + 100 + 200 + 100 + 100 + 100, 1e-9);
  auto conds = sampler.conditions();
  bool found = false;
  for (const auto& [k, v] : conds)
    if (k.ends_with(".counter_resets")) {
      EXPECT_EQ(v, "1");
      found = true;
    }
  EXPECT_TRUE(found);
}

TEST(PrometheusSensor, ResetOfOneSeriesWhileTheSumStillRises) {
  // Summing first and unwrapping the sum would miss this reset entirely (the sum goes
  // 1.1e6 -> 2.1e6): per-series unwrapping counts GPU0's new 100 J and GPU1's 2000 J.
  Exporter dcgm(testing::dcgm_exposition({{1'000'000, 1, ""}, {100'000, 1, ""}}));
  ManualClock clock;
  std::vector<SensorProblem> problems;
  auto opened = open_prometheus_sensors(options({dcgm.url()}), clock, problems);
  ASSERT_TRUE(opened.ok()) << opened.error().to_string();
  Sensor& s = *opened->front();
  auto r0 = s.read();
  ASSERT_TRUE(r0.ok());
  dcgm.set(testing::dcgm_exposition({{100'000, 1, ""}, {2'100'000, 1, ""}}));
  auto r1 = s.read();
  ASSERT_TRUE(r1.ok()) << r1.error().to_string();
  EXPECT_NEAR((*r1->energy - *r0->energy).value(), 100.0 + 2000.0, 1e-9);
}

TEST(PrometheusSensor, MigRepeatsAndPodLabelsDoNotMakeNewGpus) {
  // MIG: dcgm-exporter repeats device-level fields once per GPU instance.
  const auto mig = [](std::uint64_t mj, const std::string& pod) {
    std::string s = "# TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION counter\n";
    for (int gi : {1, 2})
      s += "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{gpu=\"0\",UUID=\"GPU-1\",device=\"nvidia0\",modelName=\"NVIDIA A100\","
           "GPU_I_PROFILE=\"3g.40gb\",GPU_I_ID=\"" +
           std::to_string(gi) + "\",Hostname=\"n\",pod=\"" + pod + "\"} " + std::to_string(mj + gi) + "\n";
    return s;
  };
  Exporter dcgm(mig(1'000'000, "a"));
  ManualClock clock;
  std::vector<SensorProblem> problems;
  auto opened = open_prometheus_sensors(options({dcgm.url()}), clock, problems);
  ASSERT_TRUE(opened.ok()) << opened.error().to_string();
  Sensor& s = *opened->front();
  auto r0 = s.read();
  ASSERT_TRUE(r0.ok());
  dcgm.set(mig(1'250'000, "b"));  // new pod on the GPU: labels change, the GPU does not
  auto r1 = s.read();
  ASSERT_TRUE(r1.ok()) << r1.error().to_string();
  EXPECT_NEAR((*r1->energy - *r0->energy).value(), 250.0, 1e-9);  // counted once, not per instance
  EXPECT_EQ(condition(s, "series"), "1");
}

TEST(PrometheusSensor, DcgmWithoutEnergyCounterIsAPowerSensor) {
  Exporter dcgm(testing::dcgm_exposition({{0, 100.0, ""}, {0, 150.0, ""}}, /*with_energy=*/false));
  ManualClock clock;
  std::vector<SensorProblem> problems;
  auto opened = open_prometheus_sensors(options({dcgm.url()}), clock, problems);
  ASSERT_TRUE(opened.ok()) << opened.error().to_string();
  const SensorInfo& info = opened->front()->info();
  EXPECT_TRUE(info.caps.power);
  EXPECT_FALSE(info.caps.energy_counter);
  EXPECT_NE(info.description.find("DCGM_FI_DEV_POWER_USAGE"), std::string::npos);

  Sampler sampler(std::move(opened).value(), SamplerConfig{}, clock);
  ASSERT_TRUE(sampler.start(false).ok());
  Meter meter(sampler);
  ASSERT_TRUE(meter.start().ok());
  clock.advance(Seconds(10));
  auto m = meter.stop();
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(m->total.domains[0].source, EnergySource::kPowerIntegral);
  EXPECT_NEAR(m->total.energy_j, 250.0 * 10.0, 1e-9);
}

TEST(PrometheusSensor, EnergyCounterMissingForAGpuFallsBackToPower) {
  // GPU1 reports power but no energy (an older GPU beside a newer one): summing the
  // energy of GPU0 alone would silently drop GPU1.
  std::string body = testing::dcgm_exposition({{1'000'000, 100.0, ""}, {0, 50.0, ""}});
  const auto cut = body.find("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{gpu=\"1\"");
  ASSERT_NE(cut, std::string::npos);
  body.erase(cut, body.find('\n', cut) + 1 - cut);
  Exporter dcgm(body);
  ManualClock clock;
  std::vector<SensorProblem> problems;
  auto opened = open_prometheus_sensors(options({dcgm.url()}), clock, problems);
  ASSERT_TRUE(opened.ok()) << opened.error().to_string();
  Sensor& s = *opened->front();
  EXPECT_TRUE(s.info().caps.power);
  auto r = s.read();
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r->power->value(), 150.0, 1e-9);
  EXPECT_NE(condition(s, "note").find("missing for some GPUs"), std::string::npos);
}

TEST(PrometheusSensor, NodeExporterWithZoneLabels) {
  Exporter node(testing::node_exposition({100, 200, 10, 50, 1000}, /*zone_label=*/true));
  ManualClock clock;
  std::vector<SensorProblem> problems;
  auto opened = open_prometheus_sensors(options({node.url()}), clock, problems);
  ASSERT_TRUE(opened.ok()) << opened.error().to_string();
  Sensor& s = *opened->front();
  auto r0 = s.read();
  node.set(testing::node_exposition({101.5, 203, 10.5, 60, 1100}, true));
  auto r1 = s.read();
  ASSERT_TRUE(r0.ok() && r1.ok());
  EXPECT_NEAR((*r1->energy - *r0->energy).value(), 1.5 + 3.0 + 0.5, 1e-6);
}

TEST(PrometheusSensor, KeplerOldPlatformAndComponents) {
  ManualClock clock;
  std::vector<SensorProblem> problems;
  {
    Exporter k(testing::kepler_old_exposition(1000, 5000, 300, 2000));
    auto opened = open_prometheus_sensors(options({k.url()}), clock, problems);
    ASSERT_TRUE(opened.ok()) << opened.error().to_string();
    Sensor& s = *opened->front();
    EXPECT_DOUBLE_EQ(s.info().caps.update_interval_s, 3.0);
    EXPECT_FALSE(s.info().caps.estimated);
    EXPECT_NE(s.info().description.find("kepler_node_platform_joules_total"), std::string::npos);
    auto r0 = s.read();
    k.set(testing::kepler_old_exposition(1030, 5045, 320, 2010));  // platform: +30 dynamic +45 idle
    auto r1 = s.read();
    ASSERT_TRUE(r0.ok() && r1.ok());
    EXPECT_NEAR((*r1->energy - *r0->energy).value(), 75.0, 1e-6);
    EXPECT_EQ(condition(s, "kepler.version"), "v0.7.11");
  }
  {
    Exporter k(testing::kepler_old_exposition(0, 0, 300, 2000, /*with_platform=*/false));
    auto opened = open_prometheus_sensors(options({k.url()}), clock, problems);
    ASSERT_TRUE(opened.ok()) << opened.error().to_string();
    Sensor& s = *opened->front();
    auto r0 = s.read();
    k.set(testing::kepler_old_exposition(0, 0, 320, 2010, false));  // package +20 +10; core not counted
    auto r1 = s.read();
    ASSERT_TRUE(r0.ok() && r1.ok());
    EXPECT_NEAR((*r1->energy - *r0->energy).value(), 30.0, 1e-6);
  }
  EXPECT_TRUE(problems.empty());
}

TEST(PrometheusSensor, KeplerNewZonesAndGpu) {
  Exporter k(testing::kepler_new_exposition(1000, 100, 600, 5000));
  ManualClock clock;
  std::vector<SensorProblem> problems;
  auto opened = open_prometheus_sensors(options({k.url()}), clock, problems);
  ASSERT_TRUE(opened.ok()) << opened.error().to_string();
  Sensor& s = *opened->front();
  EXPECT_DOUBLE_EQ(s.info().caps.update_interval_s, 5.0);
  auto r0 = s.read();
  k.set(testing::kepler_new_exposition(1012.5, 101, 610, 5300));  // package +12.5, dram +1, gpu +300
  auto r1 = s.read();
  ASSERT_TRUE(r0.ok() && r1.ok());
  EXPECT_NEAR((*r1->energy - *r0->energy).value(), 313.5, 1e-6);
  EXPECT_EQ(condition(s, "series"), "3");
  EXPECT_EQ(condition(s, "kepler.version"), "v0.10.2");
}

TEST(PrometheusSensor, KeplerEstimatorIsFlaggedEstimated) {
  std::string body = testing::kepler_old_exposition(0, 0, 300, 2000, false);
  const auto at = body.find("components_power_source=\"rapl-sysfs\"");
  ASSERT_NE(at, std::string::npos);
  body.replace(at, std::string("components_power_source=\"rapl-sysfs\"").size(),
               "components_power_source=\"estimator\"");
  Exporter k(body);
  ManualClock clock;
  std::vector<SensorProblem> problems;
  auto opened = open_prometheus_sensors(options({k.url()}), clock, problems);
  ASSERT_TRUE(opened.ok()) << opened.error().to_string();
  EXPECT_TRUE(opened->front()->info().caps.estimated);
}

TEST(PrometheusSensor, UnreachableExporterIsOneLineNetworkErrorNamingIt) {
  const std::string url = "http://127.0.0.1:" + std::to_string(HttpServer::closed_port()) + "/metrics";
  ManualClock clock;
  std::vector<SensorProblem> problems;
  auto r = open_prometheus_sensors(options({url}), clock, problems);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kNetwork);
  EXPECT_NE(r.error().message.find(url), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].name, "prometheus");
  EXPECT_EQ(problems[0].target, url);
  EXPECT_EQ(problems[0].error.code, Errc::kNetwork);
}

TEST(PrometheusSensor, OneFailingEndpointFailsTheOpenAndIsListed) {
  Exporter good(testing::dcgm_exposition({{1, 1, ""}}));
  const std::string bad = "http://127.0.0.1:" + std::to_string(HttpServer::closed_port()) + "/metrics";
  ManualClock clock;
  std::vector<SensorProblem> problems;
  auto r = open_prometheus_sensors(options({good.url(), bad}), clock, problems);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kNetwork);
  EXPECT_EQ(r.error().message.rfind("1 of 2 exporter endpoints failed", 0), 0u) << r.error().message;
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].target, bad);

  // Through the factory with --sensor prometheus named: the whole open fails.
  SensorOptions so;
  so.names = {"prometheus"};
  so.prometheus = options({good.url(), bad});
  auto set = open_sensors(default_sensor_registry(), so, clock);
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.error().code, Errc::kNetwork);
}

TEST(PrometheusSensor, Http500IsAnError) {
  Exporter e(testing::dcgm_exposition({{1, 1, ""}}));
  e.set_status(500);
  ManualClock clock;
  std::vector<SensorProblem> problems;
  auto r = open_prometheus_sensors(options({e.url()}), clock, problems);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kNetwork);
  EXPECT_NE(r.error().message.find("HTTP 500"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(e.url()), std::string::npos);
}

TEST(PrometheusSensor, MalformedExpositionIsParseErrorWithLine) {
  Exporter e(
      "# TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION counter\n"
      "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{gpu=\"0\"} 12\n"
      "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{gpu=\"1\" 13\n");
  ManualClock clock;
  std::vector<SensorProblem> problems;
  auto r = open_prometheus_sensors(options({e.url()}), clock, problems);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kParse);
  EXPECT_NE(r.error().message.find("line 3:"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(e.url()), std::string::npos);
}

TEST(PrometheusSensor, NoKnownMetricIsUnsupportedListingWhatItLookedFor) {
  Exporter e("# TYPE node_cpu_seconds_total counter\nnode_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} 1\n");
  ManualClock clock;
  std::vector<SensorProblem> problems;
  auto r = open_prometheus_sensors(options({e.url()}), clock, problems);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kUnsupported);
  const std::string& m = r.error().message;
  EXPECT_NE(m.find("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"), std::string::npos);
  EXPECT_NE(m.find("node_rapl_package_joules_total"), std::string::npos);
  EXPECT_NE(m.find("kepler_node_cpu_joules_total"), std::string::npos);
  EXPECT_NE(m.find("/sys/class/powercap"), std::string::npos);  // the node-exporter hint
}

TEST(PrometheusSensor, TimeoutIsTimeout) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  HttpServer slow([&](const HttpRequest&) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return release; });  // a hung exporter, until the test lets go
    return HttpReply{};
  });
  ManualClock clock;
  std::vector<SensorProblem> problems;
  PrometheusOptions o = options({slow.url()});
  o.timeout_s = 0.2;
  auto r = open_prometheus_sensors(o, clock, problems);
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kTimeout);
  EXPECT_NE(r.error().message.find(slow.url()), std::string::npos);
}

TEST(PrometheusSensor, ReadErrorsKeepTheirKindAndRecover) {
  Exporter e(testing::dcgm_exposition({{1'000'000, 1, ""}, {1'000'000, 1, ""}}));
  ManualClock clock;
  std::vector<SensorProblem> problems;
  auto opened = open_prometheus_sensors(options({e.url()}), clock, problems);
  ASSERT_TRUE(opened.ok()) << opened.error().to_string();
  Sensor& s = *opened->front();
  auto r0 = s.read();
  ASSERT_TRUE(r0.ok());

  e.set_status(503);
  auto bad = s.read();
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::kNetwork);

  e.set_status(200);
  e.set(testing::dcgm_exposition({{1'000'500, 1, ""}}));  // GPU1 vanished
  auto missing = s.read();
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::kNotFound);
  EXPECT_NE(missing.error().message.find("gpu1"), std::string::npos) << missing.error().message;

  e.set("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{gpu=\"0\"} -5\nDCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{gpu=\"1\"} 1\n");
  // A negative counter is well-formed text but physically impossible: rejected, not parsed as zero.
  auto negative = s.read();
  ASSERT_TRUE(negative.ok()) << negative.error().to_string();
  ASSERT_TRUE(negative->rejected.has_value());
  EXPECT_FALSE(negative->energy.has_value());
  EXPECT_NE(negative->rejected->find("line 1"), std::string::npos) << *negative->rejected;

  e.set("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{gpu=\"0\"} 1\nDCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{gpu=\"1\"} 1 2 3\n");
  auto malformed = s.read();
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.error().code, Errc::kParse);
  EXPECT_NE(malformed.error().message.find("malformed exposition: line 2"), std::string::npos);

  // Failed reads changed nothing: the next good scrape continues from the last good one.
  e.set(testing::dcgm_exposition({{1'002'000, 1, ""}, {1'003'000, 1, ""}}));
  auto r1 = s.read();
  ASSERT_TRUE(r1.ok()) << r1.error().to_string();
  EXPECT_NEAR((*r1->energy - *r0->energy).value(), 5.0, 1e-9);
}

TEST(HostilePrometheusSensor, PowerGaugeAboveTheGpuBoundIsRejectedAndNeverIntegrated) {
  Exporter dcgm(testing::dcgm_exposition({{0, 100.0, ""}, {0, 150.0, ""}}, /*with_energy=*/false));
  ManualClock clock;
  std::vector<SensorProblem> problems;
  auto opened = open_prometheus_sensors(options({dcgm.url()}), clock, problems);
  ASSERT_TRUE(opened.ok()) << opened.error().to_string();
  EXPECT_DOUBLE_EQ(opened->front()->info().caps.max_power_w, 2.0 * kPromGpuMaxPowerW);  // two GPUs
  Sampler sampler(std::move(opened).value(), SamplerConfig{}, clock);
  ASSERT_TRUE(sampler.start(false).ok());
  Meter meter(sampler);
  ASSERT_TRUE(meter.start().ok());
  clock.advance(Seconds(1));
  dcgm.set(testing::dcgm_exposition({{0, 1e30, ""}, {0, 150.0, ""}}, false));
  sampler.snapshot();  // rejected
  clock.advance(Seconds(1));
  dcgm.set(testing::dcgm_exposition({{0, 100.0, ""}, {0, 150.0, ""}}, false));
  auto m = meter.stop();
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  // 250 W from the good samples on both sides of the rejected one: bridged, 2 s.
  EXPECT_NEAR(m->total.energy_j, 500.0, 1e-9);
  EXPECT_EQ(m->total.rejected_reads, 1u);
  EXPECT_FALSE(m->total.incomplete);
  const DomainEnergy& d = m->total.domains[0];
  EXPECT_EQ(d.rejected_reads, 1u);
  EXPECT_EQ(d.failed_reads, 0u);
  EXPECT_NE(d.rejection.find("above the series' 2000 W bound"), std::string::npos) << d.rejection;
  EXPECT_NE(d.rejection.find("gpu=\"0\""), std::string::npos) << d.rejection;
}

TEST(HostilePrometheusSensor, NanInfAndNegativeGaugesAreRejected) {
  for (const char* bad : {"NaN", "+Inf", "-Inf", "-5"}) {
    Exporter e("# TYPE DCGM_FI_DEV_POWER_USAGE gauge\nDCGM_FI_DEV_POWER_USAGE{gpu=\"0\"} 100\n");
    ManualClock clock;
    std::vector<SensorProblem> problems;
    auto opened = open_prometheus_sensors(options({e.url()}), clock, problems);
    ASSERT_TRUE(opened.ok()) << opened.error().to_string();
    Sensor& s = *opened->front();
    e.set(std::string("# TYPE DCGM_FI_DEV_POWER_USAGE gauge\nDCGM_FI_DEV_POWER_USAGE{gpu=\"0\"} ") + bad + "\n");
    auto r = s.read();
    ASSERT_TRUE(r.ok()) << bad << ": " << r.error().to_string();
    ASSERT_TRUE(r->rejected.has_value()) << bad;
    EXPECT_FALSE(r->power.has_value()) << bad;
    EXPECT_NE(r->rejected->find("not a finite power >= 0"), std::string::npos) << *r->rejected;
  }
}

TEST(HostilePrometheusSensor, CounterJumpRejectsTheWholeScrapeAndTheOtherSeriesStaysPut) {
  Exporter dcgm(testing::dcgm_exposition({{1'000'000, 1, ""}, {2'000'000, 1, ""}}));
  ManualClock clock;
  std::vector<SensorProblem> problems;
  auto opened = open_prometheus_sensors(options({dcgm.url()}), clock, problems);
  ASSERT_TRUE(opened.ok()) << opened.error().to_string();
  Sensor& s = *opened->front();
  auto r0 = s.read();
  ASSERT_TRUE(r0.ok() && r0->energy);
  // GPU0 +1e11 mJ (100 MJ) in 1 s: far above 2 kW x (1 s + 30 s DCGM interval). GPU1 +10 J.
  clock.advance(Seconds(1));
  dcgm.set(testing::dcgm_exposition({{100'001'000'000ULL, 1, ""}, {2'010'000, 1, ""}}));
  auto bad = s.read();
  ASSERT_TRUE(bad.ok()) << bad.error().to_string();
  ASSERT_TRUE(bad->rejected.has_value());
  EXPECT_NE(bad->rejected->find("series gpu0"), std::string::npos) << *bad->rejected;
  EXPECT_NE(bad->rejected->find("2000 W bound"), std::string::npos) << *bad->rejected;
  // GPU0 back on its track: both deltas since the last good scrape count, GPU1's included once.
  clock.advance(Seconds(1));
  dcgm.set(testing::dcgm_exposition({{1'002'000, 1, ""}, {2'020'000, 1, ""}}));
  auto r1 = s.read();
  ASSERT_TRUE(r1.ok() && r1->energy) << (r1.ok() ? *r1->rejected : r1.error().to_string());
  EXPECT_FALSE(r1->rebased);
  EXPECT_NEAR((*r1->energy - *r0->energy).value(), 2.0 + 20.0, 1e-9);
  EXPECT_EQ(condition(s, "rejected_values"), "1");
}

TEST(HostilePrometheusSensor, SeriesBoundIsConfigurable) {
  Exporter dcgm(testing::dcgm_exposition({{0, 100.0, ""}}, /*with_energy=*/false));
  ManualClock clock;
  std::vector<SensorProblem> problems;
  PrometheusOptions o = options({dcgm.url()});
  o.series_max_power_w = 120.0;
  auto opened = open_prometheus_sensors(o, clock, problems);
  ASSERT_TRUE(opened.ok()) << opened.error().to_string();
  Sensor& s = *opened->front();
  EXPECT_DOUBLE_EQ(s.info().caps.max_power_w, 120.0);
  dcgm.set(testing::dcgm_exposition({{0, 130.0, ""}}, false));
  auto r = s.read();
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->rejected.has_value());
  o.series_max_power_w = -1.0;
  EXPECT_EQ(open_prometheus_sensors(o, clock, problems).error().code, Errc::kInvalidArgument);
}

TEST(PrometheusSensor, BadOptions) {
  ManualClock clock;
  std::vector<SensorProblem> problems;
  EXPECT_EQ(open_prometheus_sensors(PrometheusOptions{}, clock, problems).error().code, Errc::kInvalidArgument);
  PrometheusOptions o = options({"http://127.0.0.1:9/metrics"});
  o.max_scrape_hz = 0;
  EXPECT_EQ(open_prometheus_sensors(o, clock, problems).error().code, Errc::kInvalidArgument);
  auto r = open_prometheus_sensors(options({"ftp://example/metrics"}), clock, problems);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
}

TEST(PrometheusSensor, EndpointNames) {
  EXPECT_EQ(prometheus_endpoint_name("http://gpu-node-1:9400/metrics"), "gpu-node-1:9400");
  EXPECT_EQ(prometheus_endpoint_name("http://gpu-node-1/metrics"), "gpu-node-1:80");
  EXPECT_EQ(prometheus_endpoint_name("HTTPS://user:pw@node:9100"), "node:9100");
  EXPECT_EQ(prometheus_endpoint_name("https://node?x=1"), "node:443");
  EXPECT_EQ(prometheus_endpoint_name("http://[::1]:9102/metrics"), "[::1]:9102");
  EXPECT_EQ(prometheus_endpoint_name("http://[::1]/metrics"), "[::1]:80");
  EXPECT_EQ(prometheus_endpoint_name("not a url"), "not a url");
}

}  // namespace
}  // namespace jouleperf
