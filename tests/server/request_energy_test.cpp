// Energy per request of a replay against a streaming server on 127.0.0.1 (issue 17): the
// run's energy, from a fake sensor with a known power profile, split among overlapping
// requests by their token timelines — conservation against the measured total, the
// energies stored with every request, failed requests charged what they used, and the
// idle policy.
#include <gtest/gtest.h>

#include <cmath>
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
