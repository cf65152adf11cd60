// Rate sweeps against a local streaming server: phases at several rates with real idle
// gaps between them, each its own measured interval; and `jouleperf replay --rates
// --store` end to end (phases in the JSON, every request in the results store, no key).
#include "jouleperf/engine/rate_sweep.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "jouleperf/sensor/fake.hpp"
#include "jouleperf/study/store.hpp"
#include "support/http_server_openai.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf {
namespace {

using testing::FakeFault;
using testing::FakeOpenAiOptions;
using testing::FakeOpenAiServer;

Result<std::unique_ptr<OpenAiClient>> client_of(const FakeOpenAiServer& server) {
  OpenAiConfig c;
  c.url = server.base_url();
  c.timeout_s = 30.0;  // bounds a hang only
  return OpenAiClient::open(c);
}

// A started sampler over one fake sensor at a constant 40 W; nullptr if it did not start.
std::unique_ptr<Sampler> forty_watt_sampler(const Clock& clock) {
  std::vector<std::unique_ptr<Sensor>> sensors;
  SensorInfo info{"fake", "fake:0", "constant 40 W", {}};
  sensors.push_back(std::make_unique<FakePowerSensor>(info, PowerProfile().point(Seconds(0), Watts(40)), clock));
  auto sampler = std::make_unique<Sampler>(std::move(sensors), SamplerConfig{}, clock);
  if (!sampler->start(true).ok()) return nullptr;
  return sampler;
}

TEST(RateSweep, MakesOnePhasePerRateAndRefusesBadSpecs) {
  RateSweepSpec spec;
  spec.rates_rps = {2.0, 0.5};
  spec.requests = 7;
  spec.input_tokens = 5;
  spec.output_tokens = 3;
  auto p = make_rate_phases(spec);
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  ASSERT_EQ(p->size(), 2u);
  EXPECT_EQ((*p)[0].name, "rate-2");
  EXPECT_EQ((*p)[1].name, "rate-0.5");
  for (const auto& ph : *p) {
    ASSERT_EQ(ph.schedule.size(), 7u);
    for (std::size_t i = 1; i < ph.schedule.size(); ++i) EXPECT_GE(ph.schedule[i].at_s, ph.schedule[i - 1].at_s);
    EXPECT_EQ(ph.schedule[0].input_tokens, 5u);
    EXPECT_EQ(ph.schedule[0].output_tokens, 3u);
  }
  // A duration per rate: every arrival inside it; about rate * duration of them.
  RateSweepSpec d = spec;
  d.requests.reset();
  d.duration_s = 100.0;
  d.rates_rps = {3.0};
  auto pd = make_rate_phases(d);
  ASSERT_TRUE(pd.ok());
  EXPECT_LT((*pd)[0].schedule.back().at_s, 100.0);
  EXPECT_NEAR(static_cast<double>((*pd)[0].schedule.size()), 300.0, 60.0);

  RateSweepSpec bad = spec;
  bad.rates_rps = {2.0, 2.0};
  EXPECT_EQ(make_rate_phases(bad).error().code, Errc::kInvalidArgument);
  bad = spec;
  bad.rates_rps = {};
  EXPECT_FALSE(make_rate_phases(bad).ok());
  bad = spec;
  bad.rates_rps = {-1.0};
  EXPECT_FALSE(make_rate_phases(bad).ok());
  bad = spec;
  bad.duration_s = 3.0;  // both requests and duration
  EXPECT_FALSE(make_rate_phases(bad).ok());
}

TEST(RateSweep, TwoRatesWithAnIdleGapAreSeparateMeasuredPhases) {
  FakeOpenAiServer server(FakeOpenAiOptions{});
  auto client = client_of(server);
  ASSERT_TRUE(client.ok());
  SteadyClock clock;
  auto sampler_ptr = forty_watt_sampler(clock);
  ASSERT_NE(sampler_ptr, nullptr);
  Sampler& sampler = *sampler_ptr;
  Meter meter(sampler);

  RateSweepSpec spec;
  spec.rates_rps = {100.0, 200.0};
  spec.requests = 12;
  spec.input_tokens = 6;
  spec.output_tokens = 4;
  auto phases = make_rate_phases(spec);
  ASSERT_TRUE(phases.ok());
  RateSweepOptions o;
  o.idle_gap_s = 0.25;
  const std::uint64_t sent_before = server.server().requests();
  auto run = run_rate_sweep(**client, *phases, o, clock, &meter);
  auto m = meter.stop();
  sampler.stop();
  ASSERT_TRUE(run.ok()) << run.error().to_string();
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(server.server().requests() - sent_before, 24u);
  ASSERT_EQ(run->phases.size(), 2u);
  for (const auto& p : run->phases) {
    ASSERT_EQ(p.run.requests.size(), 12u);
    for (const auto& q : p.run.requests) {
      EXPECT_TRUE(q.result.ok) << q.result.error;
      EXPECT_EQ(q.result.output_tokens, 4u);
      // Every request of the phase ran inside it.
      EXPECT_GE(q.result.send_s, p.run.start_s);
      EXPECT_LE(q.result.end_s, p.run.end_s);
    }
    EXPECT_GE(p.gap_start_s, p.run.end_s);
    EXPECT_GE(p.gap_end_s - p.gap_start_s, 0.25);
  }
  const auto& a = run->phases[0];
  const auto& b = run->phases[1];
  EXPECT_EQ(a.name, "rate-100");
  EXPECT_EQ(b.name, "rate-200");
  EXPECT_EQ(a.gap_name, "gap-1");
  // Ordered, and nothing was sent in the gap: the next phase's first send comes after it.
  EXPECT_LE(a.run.end_s, b.run.start_s);
  EXPECT_GE(b.run.requests.front().result.send_s - a.run.end_s, 0.25);
  EXPECT_GE(b.run.start_s, a.gap_end_s);

  ASSERT_EQ(m->phases.size(), 4u);
  EXPECT_EQ(m->phases[0].name, "rate-100");
  EXPECT_EQ(m->phases[1].name, "gap-1");
  EXPECT_EQ(m->phases[2].name, "rate-200");
  EXPECT_EQ(m->phases[3].name, "gap-2");
  for (const auto& p : run->phases) {
    auto e = sweep_phase_energy(*m, p);
    ASSERT_TRUE(e.ok()) << e.error().to_string();
    ASSERT_TRUE(e->gap.has_value());
    // 40 W constant: each interval's energy is 40 W times its length.
    EXPECT_NEAR(e->gap->energy_j, 40.0 * e->gap->duration_s, 0.05);
    EXPECT_GE(e->gap->duration_s, 0.25);
    EXPECT_NEAR(e->active.energy_j, 40.0 * e->active.duration_s, 0.05);
    EXPECT_DOUBLE_EQ(e->energy_j, e->active.energy_j + e->gap->energy_j);
    EXPECT_EQ(e->energy_source, e->active.energy_source);
    EXPECT_FALSE(e->energy_source.empty());
    EXPECT_FALSE(e->estimated);
  }
}

TEST(RateSweep, ZeroGapMeansNoGapIntervals) {
  FakeOpenAiServer server(FakeOpenAiOptions{});
  OpenAiConfig c;
  c.url = server.base_url();
  auto client = OpenAiClient::open(c);
  ASSERT_TRUE(client.ok());
  SteadyClock clock;
  RateSweepSpec spec;
  spec.rates_rps = {500.0, 1000.0};
  spec.requests = 5;
  spec.input_tokens = 4;
  spec.output_tokens = 2;
  auto phases = make_rate_phases(spec);
  ASSERT_TRUE(phases.ok());
  RateSweepOptions o;
  o.idle_gap_s = 0.0;
  auto run = run_rate_sweep(**client, *phases, o, clock, nullptr);
  ASSERT_TRUE(run.ok());
  for (const auto& p : run->phases) {
    EXPECT_EQ(p.gap_name, "");
    EXPECT_EQ(p.run.requests.size(), 5u);
  }
  o.idle_gap_s = -1.0;
  EXPECT_EQ(run_rate_sweep(**client, *phases, o, clock, nullptr).error().code, Errc::kInvalidArgument);
}

TEST(RateSweep, WarmUpRequestsRunBeforeTheFirstPhaseAndAreNotMetered) {
  FakeOpenAiServer server(FakeOpenAiOptions{});
  auto client = client_of(server);
  ASSERT_TRUE(client.ok());
  SteadyClock clock;
  auto sampler_ptr = forty_watt_sampler(clock);
  ASSERT_NE(sampler_ptr, nullptr);
  Sampler& sampler = *sampler_ptr;
  Meter meter(sampler);
  RateSweepSpec spec;
  spec.rates_rps = {200.0, 400.0};
  spec.requests = 5;
  spec.input_tokens = 4;
  spec.output_tokens = 2;
  auto phases = make_rate_phases(spec);
  ASSERT_TRUE(phases.ok());
  RateSweepOptions o;
  o.idle_gap_s = 0.0;
  o.warmup_requests = 3;
  const std::uint64_t sent_before = server.server().requests();
  auto run = run_rate_sweep(**client, *phases, o, clock, &meter);
  auto m = meter.stop();
  sampler.stop();
  ASSERT_TRUE(run.ok()) << run.error().to_string();
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(server.server().requests() - sent_before, 13u);  // 3 warm-up + 2 x 5
  ASSERT_TRUE(run->warmup.has_value());
  ASSERT_EQ(run->warmup->requests.size(), 3u);
  for (const auto& q : run->warmup->requests) {
    EXPECT_TRUE(q.result.ok) << q.result.error;
    EXPECT_EQ(q.result.output_tokens, 2u);
    EXPECT_LE(q.result.end_s, run->phases.front().run.start_s);  // over before phase 1 starts
  }
  for (const auto& p : run->phases) EXPECT_EQ(p.run.requests.size(), 5u);
  // The meter holds the phases only, starting at phase 1 (the warm-up is outside it).
  ASSERT_EQ(m->phases.size(), 2u);
  EXPECT_EQ(m->phases[0].name, "rate-200");
  EXPECT_GE(m->phases[0].start_s, run->warmup->end_s - 1e-9);
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(RateSweepCli, PhasesInJsonAndEveryRequestInTheStoreWithoutTheKey) {
  const std::string cli = std::string(JP_BINARY_DIR) + "/jouleperf";
  if (!std::filesystem::exists(cli)) GTEST_SKIP() << "jouleperf is not built";
  FakeOpenAiOptions fo;
  // The 3rd request the server sees answers HTTP 500: a failed request with its reason.
  fo.fault = [](std::uint64_t i) { return i == 3 ? FakeFault::kHttp500 : FakeFault::kNone; };
  FakeOpenAiServer server(fo);
  testing::TempDir dir;
  const std::string out = (dir.path() / "sweep.json").string();
  const std::string db = (dir.path() / "runs.db").string();
  const std::string key = "sk-test-7f3a9c1e5b";
  const std::string cmd = "JP_TEST_SWEEP_KEY=" + key + " " + cli + " replay --url " + server.base_url() +
                          " --api-key-env JP_TEST_SWEEP_KEY --rates 50,100 --requests 6 --idle-gap 0.3 -I 5 -O 3" +
                          " --sensor cpu-model --max-failure-rate 0.2 --store " + db + " --json > " + out +
                          " 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  // The key was used (sent to the server)...
  const auto auths = server.authorizations();
  ASSERT_FALSE(auths.empty());
  EXPECT_EQ(auths.front(), "Bearer " + key);

  std::ifstream in(out);
  auto j = nlohmann::json::parse(in, nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["mode"], "rate-sweep");
  EXPECT_EQ(j["requests"], 12);
  EXPECT_EQ(j["failed"], 1);
  ASSERT_EQ(j["phases"].size(), 2u);
  double prev_gap_end = -1;
  for (const auto& p : j["phases"]) {
    EXPECT_EQ(p["requests"], 6);
    EXPECT_EQ(p["per_request"].size(), 6u);
    EXPECT_GE(p["start_s"].get<double>(), prev_gap_end);
    EXPECT_GE(p["gap_end_s"].get<double>() - p["gap_start_s"].get<double>(), 0.3);
    prev_gap_end = p["gap_end_s"].get<double>();
    EXPECT_GT(p["energy_j"].get<double>(), 0.0);
    EXPECT_NEAR(p["energy_j"].get<double>(), p["active_energy_j"].get<double>() + p["gap_energy_j"].get<double>(),
                1e-9);
    EXPECT_EQ(p["energy_source"], "cpu-time-model");
    EXPECT_EQ(p["estimated"], true);
    EXPECT_TRUE(p["energy_per_output_token_j"].is_number());
    EXPECT_TRUE(p["ttft_s"]["p99"].is_number());
    // Energy per request per phase: its requests and its idle (the gap) add up to the
    // phase's energy_j, the interval and the gap sliced at the meter's own marks.
    const auto& at = p["attribution"];
    ASSERT_TRUE(at.is_object()) << p.dump();
    const double e = p["energy_j"].get<double>();
    EXPECT_NEAR(at["total_j"].get<double>(), e, 1e-9 * e);
    EXPECT_NEAR(at["attributed_j"].get<double>() + at["unattributed_idle_j"].get<double>(), e, 1e-9 * e);
    EXPECT_GT(at["unattributed_idle_j"].get<double>(), 0.0);  // the 0.3 s gap at least
    double sum = 0;
    for (const auto& q : p["per_request"]) sum += q["energy_j"].get<double>();
    EXPECT_NEAR(sum, at["attributed_j"].get<double>(), 1e-9 * e);
  }
  EXPECT_EQ(j["phases"][0]["name"], "rate-50");
  EXPECT_EQ(j["phases"][0]["failed"], 1);
  EXPECT_EQ(j["warmup"]["requests"], 1);  // --warmup's default, outside every phase and the store
  EXPECT_EQ(j["phases"][1]["name"], "rate-100");
  EXPECT_GE(j["phases"][1]["start_s"].get<double>() - j["phases"][0]["end_s"].get<double>(), 0.3);

  {
    auto store = study::Store::open(db);
    ASSERT_TRUE(store.ok()) << store.error().to_string();
    auto runs = store->runs();
    ASSERT_TRUE(runs.ok());
    ASSERT_EQ(runs->size(), 1u);
    const auto& run = (*runs)[0];
    EXPECT_EQ(run.kind, "rate-sweep");
    EXPECT_EQ(run.engine, "openai");
    EXPECT_EQ(run.target, server.base_url());
    EXPECT_EQ(run.info["phases"].size(), 2u);
    auto reqs = store->requests(run.run_id);
    ASSERT_TRUE(reqs.ok());
    ASSERT_EQ(reqs->size(), 12u);
    std::size_t failed = 0;
    for (std::size_t i = 0; i < reqs->size(); ++i) {
      const auto& q = (*reqs)[i];
      EXPECT_EQ(q.index, i);
      EXPECT_EQ(q.phase, i < 6 ? "rate-50" : "rate-100");
      EXPECT_EQ(q.input_tokens_asked, 5u);
      EXPECT_EQ(q.output_tokens_asked, 3u);
      ASSERT_TRUE(q.energy_j) << "request " << i << " is stored with its energy";
      if (!q.ok) {
        ++failed;
        EXPECT_EQ(q.http_status, 500);
        EXPECT_NE(q.error.find("500"), std::string::npos) << q.error;
        continue;
      }
      EXPECT_EQ(q.output_tokens, 3u);
      ASSERT_EQ(q.token_s.size(), 3u);
      ASSERT_TRUE(q.ttft_s.has_value());
      EXPECT_NEAR(*q.ttft_s, q.token_s.front() - q.send_s, 1e-9);
      EXPECT_LE(q.send_s, q.token_s.front());
      EXPECT_LE(q.token_s.back(), q.end_s);
      EXPECT_NEAR(q.lateness_s, q.send_s - q.scheduled_s, 1e-9);
    }
    EXPECT_EQ(failed, 1u);
  }
  // ...and never stored: not in the database, its WAL, or anything beside it.
  for (const auto& f : std::filesystem::directory_iterator(dir.path()))
    EXPECT_EQ(slurp(f.path()).find(key), std::string::npos) << f.path();

  // Usage errors: --rates with --poisson, --duration without --rates, --rates with llamacpp.
  const std::string base = cli + " replay --url " + server.base_url() + " --sensor cpu-model ";
  EXPECT_EQ(WEXITSTATUS(std::system((base + "--rates 1,2 --poisson 3 >/dev/null 2>&1").c_str())), 2);
  EXPECT_EQ(WEXITSTATUS(std::system((base + "--poisson 3 --duration 2 >/dev/null 2>&1").c_str())), 2);
  EXPECT_EQ(WEXITSTATUS(std::system((base + "--rates 1,1 >/dev/null 2>&1").c_str())), 2);
  EXPECT_EQ(WEXITSTATUS(std::system((base + "--rates 1 --engine llamacpp >/dev/null 2>&1").c_str())), 2);
  EXPECT_EQ(WEXITSTATUS(std::system((base + "--rates 1 --requests 2 --duration 1 >/dev/null 2>&1").c_str())), 2);
}

TEST(RateSweepCli, SingleRunStoresItsRequestsInPhaseReplay) {
  const std::string cli = std::string(JP_BINARY_DIR) + "/jouleperf";
  if (!std::filesystem::exists(cli)) GTEST_SKIP() << "jouleperf is not built";
  FakeOpenAiServer server(FakeOpenAiOptions{});
  testing::TempDir dir;
  const std::string db = (dir.path() / "runs.db").string();
  const std::string cmd = cli + " replay --url " + server.base_url() +
                          " --poisson 200 --requests 5 -I 4 -O 2 --sensor cpu-model --store " + db + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;  // a second run: its own run_id
  auto store = study::Store::open(db);
  ASSERT_TRUE(store.ok());
  auto runs = store->runs();
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_NE((*runs)[0].run_id, (*runs)[1].run_id);
  for (const auto& r : *runs) {
    EXPECT_EQ(r.kind, "replay");
    EXPECT_EQ(r.info["requests"], 5);
    auto reqs = store->requests(r.run_id);
    ASSERT_TRUE(reqs.ok());
    ASSERT_EQ(reqs->size(), 5u);
    for (const auto& q : *reqs) {
      EXPECT_EQ(q.phase, "replay");
      EXPECT_TRUE(q.ok);
      EXPECT_EQ(q.token_s.size(), 2u);
    }
  }
}

}  // namespace
}  // namespace jouleperf
