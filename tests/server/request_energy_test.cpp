// Energy per request of a replay against a streaming server on 127.0.0.1 (issue 17): the
// run's energy, from a fake sensor with a known power profile, split among overlapping
// requests by their token timelines — conservation against the measured total, the
// energies stored with every request, failed requests charged what they used, and the
// idle policy.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "jouleperf/sensor/fake.hpp"
#include "jouleperf/study/replay.hpp"
#include "jouleperf/study/store.hpp"
#include "support/http_server_openai.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf {
namespace {

using testing::FakeFault;
using testing::FakeOpenAiOptions;
using testing::FakeOpenAiServer;

// 60 W with 200 W bursts, so that the slices differ: a sampler over one fake sensor.
SamplerStarter stepping_power() {
  return [](const Clock& clock) -> Result<std::unique_ptr<Sampler>> {
    PowerProfile p;
    for (int k = 0; k < 2000; ++k)
      p.point(Seconds(0.05 * k), Watts(k % 2 ? 200 : 60)).point(Seconds(0.05 * k + 0.049), Watts(k % 2 ? 200 : 60));
    SensorInfo info{"fake", "fake:0", "stepping power", {}};
    info.caps.power = true;
    std::vector<std::unique_ptr<Sensor>> sensors;
    sensors.push_back(std::make_unique<FakePowerSensor>(info, p, clock));
    auto sampler = std::make_unique<Sampler>(std::move(sensors), SamplerConfig{}, clock);
    if (auto st = sampler->start(true); !st) return st.error();
    return sampler;
  };
}

study::ReplayOptions options(const FakeOpenAiServer& server, const std::string& store) {
  study::ReplayOptions a;
  a.engine = "openai";
  a.model = "fake";
  OpenAiConfig c;
  c.url = server.base_url();
  c.timeout_s = 30.0;
  a.openai = c;
  a.poisson_rps = 40.0;
  a.requests = 12;
  a.requests_given = true;
  a.input = 16;
  a.output = 8;
  a.warmup = 0;
  a.store = store;
  a.max_failure_rate = 1.0;
  return a;
}

double rel(double a, double b) { return std::abs(a - b) / std::max(1e-12, std::abs(b)); }

TEST(RequestEnergy, AReplaysRequestsAndIdleAddUpToTheMeasuredTotalAndAreStored) {
  FakeOpenAiOptions fo;
  fo.fault = [](std::uint64_t i) {
    if (i == 4) return FakeFault::kHttp500;
    if (i == 7) return FakeFault::kCloseMidStream;
    return FakeFault::kNone;
  };
  FakeOpenAiServer server(fo);
  testing::TempDir dir;
  const std::string db = (dir.path() / "r.db").string();
  auto a = options(server, db);
  a.idle_power_w = 60.0;
  auto r = study::run_replay(a, stepping_power());
  ASSERT_TRUE(r) << r.error().to_string();
  const auto& j = r->json;
  ASSERT_TRUE(j["attribution"].is_object()) << j.dump();
  const auto& at = j["attribution"];
  EXPECT_LT(rel(at["total_j"].get<double>(), j["energy_j"].get<double>()), 1e-9);
  EXPECT_LT(
      rel(at["attributed_j"].get<double>() + at["unattributed_idle_j"].get<double>(), at["total_j"].get<double>()),
      1e-9);
  EXPECT_LT(rel(at["attributed_above_idle_j"].get<double>() + at["unattributed_above_idle_j"].get<double>(),
                at["total_above_idle_j"].get<double>()),
            1e-9);
  EXPECT_EQ(at["method"], "black-box");
  EXPECT_GT(at["energy_per_request_j"]["p50"].get<double>(), 0.0);

  auto store = study::Store::open(db, study::StoreMode::kReadOnly);
  ASSERT_TRUE(store) << store.error().to_string();
  auto runs = store->runs();
  ASSERT_TRUE(runs && runs->size() == 1);
  auto reqs = store->requests(runs->front().run_id);
  ASSERT_TRUE(reqs && reqs->size() == 12);
  double sum = 0;
  int failed = 0;
  for (const auto& q : *reqs) {
    ASSERT_TRUE(q.energy_j) << q.index;
    EXPECT_NEAR(*q.energy_j, *q.prefill_j + *q.decode_j + *q.idle_j, 1e-9);
    EXPECT_GE(*q.energy_j, 0.0);
    EXPECT_NE(q.attribution.find("black-box"), std::string::npos);
    sum += *q.energy_j;
    if (!q.ok) {
      ++failed;
      EXPECT_GT(*q.energy_j, 0.0) << "a failed request keeps what it used: " << q.error;
    }
  }
  EXPECT_EQ(failed, 2);
  EXPECT_LT(rel(sum, at["attributed_j"].get<double>()), 1e-9);
  ASSERT_EQ(j["per_request"].size(), 12u);
  EXPECT_TRUE(j["per_request"][0]["energy_j"].is_number());
}

TEST(RequestEnergy, TheTimePolicyLeavesNoIdleUnattributed) {
  FakeOpenAiServer server(FakeOpenAiOptions{});
  testing::TempDir dir;
  auto a = options(server, (dir.path() / "t.db").string());
  a.idle_policy = "time";
  auto r = study::run_replay(a, stepping_power());
  ASSERT_TRUE(r) << r.error().to_string();
  const auto& at = r->json["attribution"];
  EXPECT_EQ(at["unattributed_idle_j"].get<double>(), 0.0);
  EXPECT_LT(rel(at["attributed_j"].get<double>(), at["total_j"].get<double>()), 1e-9);
}

// An Azure-format trace with a tenant column: 12 requests 40 ms apart, tenants a, b, c in turn.
std::string tenant_trace(const testing::TempDir& dir) {
  const std::string path = (dir.path() / "tenants.csv").string();
  std::ofstream f(path);
  f << "TIMESTAMP,ContextTokens,GeneratedTokens,tenant\n";
  for (int i = 0; i < 12; ++i)
    f << fmt::format("2023-11-16 18:15:{:02d}.{:03d}0000,{},{},{}\n", 10 + (i * 40) / 1000, (i * 40) % 1000, 16 + i,
                     4 + i % 5, "abc"[i % 3]);
  return path;
}

TEST(RequestEnergy, GroupByATraceColumnSumsToTheTotalWithTheIdle) {
  FakeOpenAiOptions fo;
  fo.fault = [](std::uint64_t i) { return i == 5 ? FakeFault::kHttp500 : FakeFault::kNone; };
  FakeOpenAiServer server(fo);
  testing::TempDir dir;
  auto a = options(server, "");
  a.poisson_rps.reset();
  a.trace = tenant_trace(dir);
  a.group_by = "Tenant";  // column names match as --where's do: case, spaces, '_' and '-' aside
  auto r = study::run_replay(a, stepping_power());
  ASSERT_TRUE(r) << r.error().to_string();
  const auto& j = r->json;
  ASSERT_TRUE(j["chargeback"].is_object()) << j.dump();
  const auto& c = j["chargeback"];
  ASSERT_EQ(c["groups"].size(), 3u);
  double sum = 0, share = 0;
  std::size_t requests = 0, failed = 0;
  for (const auto& g : c["groups"]) {
    EXPECT_EQ(g["requests"], 4) << g.dump();
    sum += g["energy_j"].get<double>();
    share += g["share"].get<double>();
    requests += g["requests"].get<std::size_t>();
    failed += g["failed"].get<std::size_t>();
    EXPECT_GT(g["gco2e"].get<double>(), 0.0);
  }
  EXPECT_EQ(requests, 12u);
  EXPECT_EQ(failed, 1u);
  const double total = j["energy_j"].get<double>();
  EXPECT_LT(rel(sum + c["unattributed_idle_j"].get<double>(), total), 1e-9);
  EXPECT_LT(std::abs(share + c["unattributed_idle_j"].get<double>() / total - 1.0), 1e-9);
  // Request i of the trace is tenant "abc"[i % 3]: group a holds requests 0, 3, 6, 9.
  double a_sum = 0;
  for (int i : {0, 3, 6, 9}) a_sum += j["per_request"][i]["energy_j"].get<double>();
  for (const auto& g : c["groups"])
    if (g["group"] == "a") {
      EXPECT_LT(rel(g["energy_j"].get<double>(), a_sum), 1e-9);
    }
  const auto doc = study::replay_document(*r);
  bool table = false;
  for (const auto& t : doc.tables) table = table || t.name == "chargeback";
  EXPECT_TRUE(table);
}

TEST(RequestEnergy, GroupByAColumnTheTraceLacksNamesItAndTheColumnsPresent) {
  FakeOpenAiServer server(FakeOpenAiOptions{});
  testing::TempDir dir;
  auto a = options(server, "");
  a.poisson_rps.reset();
  a.trace = tenant_trace(dir);
  a.group_by = "region";
  auto r = study::run_replay(a, stepping_power());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
  EXPECT_NE(r.error().message.find("'region'"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("tenant"), std::string::npos) << r.error().message;
  a.trace.clear();
  a.poisson_rps = 10.0;
  a.group_by = "tenant";
  auto p = study::run_replay(a, stepping_power());
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("--group-by needs --trace"), std::string::npos);
}

TEST(RequestEnergy, AnUnknownIdlePolicyIsAUsageError) {
  FakeOpenAiServer server(FakeOpenAiOptions{});
  auto a = options(server, "");
  a.idle_policy = "sometimes";
  auto r = study::run_replay(a, stepping_power());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
  EXPECT_NE(r.error().message.find("none, time or tokens"), std::string::npos);
}

}  // namespace
}  // namespace jouleperf
