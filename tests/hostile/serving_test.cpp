// Issue 12, "Failures are failures" and "Every request has a deadline": a served batch
// with a failed request is never a measurement (sweep stores the cell failed with every
// reason, run and replay exit 1 with the reasons), and no server can keep a request open
// forever (a stream past max_tokens is cut, keep-alive comments are not data, a total
// deadline bounds a slow drip). The fake server (tests/support/http_server_openai.*)
// plays the faulty server; the CLI tests run the built `jouleperf`. Deadlines here are
// short only to bound the tests: they assert outcomes and reasons, never a duration.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "jouleperf/engine/openai.hpp"
#include "jouleperf/engine/sse.hpp"
#include "jouleperf/study/store.hpp"
#include "support/http_server_openai.hpp"
#include "support/temp_dir.hpp"

extern char** environ;

namespace jouleperf {
namespace {

using testing::FakeFault;
using testing::FakeOpenAiOptions;
using testing::FakeOpenAiServer;

struct CliRun {
  int exit_code = -1;
  std::string out, err;
};

std::string slurp(const std::filesystem::path& path) {
  std::stringstream s;
  s << std::ifstream(path).rdbuf();
  return s.str();
}

// Runs the built jouleperf (or the program in JP_TEST_CLI_PATH, to run these tests
// against another build) with `args`, stdout and stderr into files of `dir`, and waits
// for it (the fake server keeps serving on its own threads meanwhile).
CliRun run_cli(std::vector<std::string> args, const testing::TempDir& dir) {
  static int n = 0;
  const auto out = dir.path() / ("cli" + std::to_string(++n) + ".out");
  const auto err = dir.path() / ("cli" + std::to_string(n) + ".err");
  const char* other = std::getenv("JP_TEST_CLI_PATH");
  args.insert(args.begin(), other != nullptr && *other != '\0' ? other : JP_CLI_PATH);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  CliRun r;
  if (rc != 0) return r;
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

nlohmann::json parse(const std::string& text) { return nlohmann::json::parse(text, nullptr, false); }

// The server's requests 1..4 of each batch of four: one good, then HTTP 500, a stall
// (until the server stops) and a stream cut mid-answer.
FakeFault three_of_four_fail(std::uint64_t i) {
  switch (i) {
    case 2: return FakeFault::kHttp500;
    case 3: return FakeFault::kStall;
    case 4: return FakeFault::kCloseMidStream;
    default: return FakeFault::kNone;
  }
}

TEST(HostileServing, SweepCellWithFailedRequestsIsStoredFailedWithReasonsAndRetriedOnResume) {
  FakeOpenAiOptions o;
  o.fault = three_of_four_fail;
  FakeOpenAiServer server(o);
  testing::TempDir dir;
  const std::string db = (dir.path() / "cells.db").string();
  const std::vector<std::string> args = {"sweep",
                                         "--store",
                                         db,
                                         "--engine",
                                         "openai",
                                         "--setting",
                                         "url=" + server.base_url(),
                                         "--setting",
                                         "timeout_s=2",
                                         "-I",
                                         "8",
                                         "-O",
                                         "4",
                                         "-B",
                                         "4",
                                         "--warmup",
                                         "0",
                                         "--reps",
                                         "1",
                                         "--sensor",
                                         "cpu-model",
                                         "--no-progress"};
  const CliRun r = run_cli(args, dir);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("FAILED default I=8 O=4 B=4"), std::string::npos) << r.err;
  {
    auto store = study::Store::open(db);
    ASSERT_TRUE(store.ok()) << store.error().to_string();
    auto cells = store->cells();
    ASSERT_TRUE(cells.ok()) << cells.error().to_string();
    ASSERT_EQ(cells->size(), 1u);
    const study::CellResult& c = cells->front();
    EXPECT_EQ(c.status, study::CellStatus::kFailed);
    EXPECT_EQ(study::status_name(c.status), "failed");
    // No repetition kept: no energy per batch, request or output token to divide.
    EXPECT_TRUE(c.reps.empty());
    EXPECT_EQ(c.energy_per_output_token_j().n, 0u);
    EXPECT_NE(c.reason.find("3 of 4 requests failed"), std::string::npos) << c.reason;
    ASSERT_EQ(c.failures.size(), 3u);
    int http500 = 0, stalled = 0, cut = 0;
    for (const auto& f : c.failures) {
      EXPECT_EQ(f.phase, "repetition 1");
      EXPECT_LT(f.request, 4u);
      if (f.reason.find("HTTP 500") != std::string::npos)
        ++http500;
      else if (f.reason.find("stalled") != std::string::npos)
        ++stalled;
      else
        ++cut;
    }
    EXPECT_EQ(http500, 1);
    EXPECT_EQ(stalled, 1);
    EXPECT_EQ(cut, 1);
  }
  // Resumed: the failed cell is run again (the server's requests 5..8 are good) and replaced.
  const CliRun again = run_cli(args, dir);
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  auto store = study::Store::open(db);
  ASSERT_TRUE(store.ok());
  auto cells = store->cells();
  ASSERT_TRUE(cells.ok());
  ASSERT_EQ(cells->size(), 1u);
  EXPECT_EQ(cells->front().status, study::CellStatus::kDone);
  EXPECT_EQ(cells->front().reps.size(), 1u);
  EXPECT_TRUE(cells->front().failures.empty());
}

TEST(HostileServing, FailedCellRoundTripsThroughJson) {
  study::CellResult c;
  c.key = {"srv", 8, 4, 2};
  c.status = study::CellStatus::kFailed;
  c.reason = "repetition 1: 1 of 2 requests failed";
  c.failures.push_back({"repetition 1", 1, "HTTP 500: boom"});
  auto back = study::cell_from_json(study::to_json(c));
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(back->status, study::CellStatus::kFailed);
  ASSERT_EQ(back->failures.size(), 1u);
  EXPECT_EQ(back->failures[0].request, 1u);
  EXPECT_EQ(back->failures[0].reason, "HTTP 500: boom");
  // A cell stored before "failures" existed still reads.
  auto old = study::to_json(c);
  old.erase("failures");
  old["status"] = "done";
  ASSERT_TRUE(study::cell_from_json(old).ok());
}

TEST(HostileServing, RunExitsOneAndItsJsonNamesTheFailedRequests) {
  FakeOpenAiOptions o;
  o.fault = [](std::uint64_t i) {
    return i == 2 ? FakeFault::kHttp500 : i == 4 ? FakeFault::kCloseMidStream : FakeFault::kNone;
  };
  FakeOpenAiServer server(o);
  testing::TempDir dir;
  const CliRun r = run_cli({"run", "--engine", "openai", "--url", server.base_url(), "-B", "4", "-I", "8", "-O", "4",
                            "--warmup", "0", "--timeout", "5", "--sensor", "cpu-model", "--json"},
                           dir);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  const auto j = parse(r.out);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["ok"], false);
  // No per-request energy: the window is not charged to the requests that succeeded.
  EXPECT_FALSE(j.contains("requests"));
  ASSERT_TRUE(j["window_energy_j"].is_number());
  EXPECT_EQ(j["openai"]["requests_total"], 4);
  EXPECT_EQ(j["openai"]["requests_failed"], 2);
  ASSERT_EQ(j["openai"]["failures"].size(), 2u);
  bool saw500 = false;
  for (const auto& f : j["openai"]["failures"]) {
    EXPECT_TRUE(f["request"].is_number_unsigned());
    EXPECT_FALSE(f["error"].get<std::string>().empty());
    saw500 = saw500 || f["error"].get<std::string>().find("HTTP 500") != std::string::npos;
  }
  EXPECT_TRUE(saw500);
}

TEST(HostileServing, ReplayWhereEveryRequestFailsExitsOne) {
  FakeOpenAiOptions o;
  o.fault = [](std::uint64_t) { return FakeFault::kHttp500; };
  FakeOpenAiServer server(o);
  testing::TempDir dir;
  const CliRun r = run_cli({"replay", "--url", server.base_url(), "--poisson", "200", "--requests", "4", "-I", "4",
                            "-O", "2", "--sensor", "cpu-model", "--json"},
                           dir);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  const auto j = parse(r.out);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["failure_rate"], 1.0);
  EXPECT_EQ(j["within_max_failure_rate"], false);
  EXPECT_EQ(j["failures"].size(), 4u);
  EXPECT_NE(r.err.find("4 of 4 requests failed"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("HTTP 500"), std::string::npos) << r.err;
}

TEST(HostileServing, ReplayFailureShareAgainstMaxFailureRate) {
  FakeOpenAiOptions o;
  o.fault = [](std::uint64_t i) { return i % 4 == 2 ? FakeFault::kHttp500 : FakeFault::kNone; };
  FakeOpenAiServer server(o);
  testing::TempDir dir;
  const std::vector<std::string> base = {
      "replay", "--url", server.base_url(), "--poisson", "200",   "--requests", "4", "-I", "4",
      "-O",     "2",     "--sensor",        "cpu-model", "--json"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return run_cli(args, dir);
  };
  // 1 of 4 fails (25 %): allowed at 0.5, not at the default 0.
  const CliRun allowed = with({"--max-failure-rate", "0.5"});
  EXPECT_EQ(allowed.exit_code, 0) << allowed.out << allowed.err;
  const auto j = parse(allowed.out);
  ASSERT_FALSE(j.is_discarded()) << allowed.out;
  EXPECT_EQ(j["failure_rate"], 0.25);
  EXPECT_EQ(j["failures"].size(), 1u);
  EXPECT_EQ(j["ok"], 3);  // the successful requests (a count, as before)
  EXPECT_EQ(j["within_max_failure_rate"], true);
  const CliRun strict = with({});
  EXPECT_EQ(strict.exit_code, 1) << strict.out << strict.err;
  EXPECT_NE(strict.err.find("25.0%"), std::string::npos) << strict.err;
  // The rate is validated: [0, 1].
  EXPECT_EQ(with({"--max-failure-rate", "1.5"}).exit_code, 2);
  EXPECT_EQ(with({"--max-failure-rate", "-0.1"}).exit_code, 2);
  // Rate sweeps: a phase above the allowed share fails the command.
  const std::vector<std::string> sweep = {
      "replay",   "--url",    server.base_url(), "--rates", "200", "--requests", "4",
      "--warmup", "0",        "--idle-gap",      "0",       "-I",  "4",          "-O",
      "2",        "--sensor", "cpu-model",       "--json"};
  EXPECT_EQ(run_cli(sweep, dir).exit_code, 1);
  std::vector<std::string> lenient = sweep;
  lenient.insert(lenient.end(), {"--max-failure-rate", "0.5"});
  const CliRun ok = run_cli(lenient, dir);
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  const auto sj = parse(ok.out);
  ASSERT_FALSE(sj.is_discarded()) << ok.out;
  EXPECT_EQ(sj["phases"][0]["failure_rate"], 0.25);
  EXPECT_EQ(sj["ok"], 3);  // the successful requests (a count, as before)
  EXPECT_EQ(sj["within_max_failure_rate"], true);
}

std::unique_ptr<OpenAiEngine> engine_for(const FakeOpenAiServer& server, double timeout_s,
                                         std::optional<double> deadline_s) {
  OpenAiConfig c;
  c.url = server.base_url();
  c.timeout_s = timeout_s;
  c.request_deadline_s = deadline_s;
  auto e = OpenAiEngine::open(c);
  EXPECT_TRUE(e.ok()) << e.error().to_string();
  return e.ok() ? std::move(*e) : nullptr;
}

BatchRequest one(std::uint64_t input, std::uint64_t output) {
  BatchRequest b;
  b.batch = 1;
  b.input_tokens = input;
  b.output_tokens = output;
  return b;
}

TEST(HostileServing, EndlessStreamIsCutPastMaxTokens) {
  FakeOpenAiOptions o;
  o.fault = [](std::uint64_t) { return FakeFault::kEndless; };
  FakeOpenAiServer server(o);
  auto e = engine_for(server, 30.0, 600.0);  // neither would end it soon: the max_tokens rule must
  ASSERT_NE(e, nullptr);
  SteadyClock clock;
  auto r = e->run_batch(one(4, 8), clock, nullptr);
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(e->last_results().size(), 1u);
  const auto& q = e->last_results()[0];
  EXPECT_FALSE(q.ok);
  EXPECT_NE(q.error.find("overran max_tokens"), std::string::npos) << q.error;
  EXPECT_LE(q.output_tokens, 8u + kOverrunSlackTokens);
}

TEST(HostileServing, PingOnlyStreamTimesOut) {
  FakeOpenAiOptions o;
  o.fault = [](std::uint64_t) { return FakeFault::kPingOnly; };
  o.drip_interval_ms = 10;  // a comment far more often than the timeout
  FakeOpenAiServer server(o);
  auto e = engine_for(server, 0.3, 600.0);
  ASSERT_NE(e, nullptr);
  SteadyClock clock;
  auto r = e->run_batch(one(4, 4), clock, nullptr);
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(e->last_failures().size(), 1u);
  EXPECT_NE(e->last_failures()[0].reason.find("stalled"), std::string::npos) << e->last_failures()[0].reason;
  EXPECT_EQ(e->last_results()[0].output_tokens, 0u);
}

TEST(HostileServing, RequestDeadlineBoundsASlowDrip) {
  FakeOpenAiOptions o;
  o.fault = [](std::uint64_t) { return FakeFault::kSlowDrip; };
  o.drip_interval_ms = 20;  // never silent for the timeout; 100000 tokens would take over half an hour
  FakeOpenAiServer server(o);
  auto e = engine_for(server, 30.0, 0.5);
  ASSERT_NE(e, nullptr);
  SteadyClock clock;
  auto r = e->run_batch(one(4, 100000), clock, nullptr);
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(e->last_failures().size(), 1u);
  EXPECT_NE(e->last_failures()[0].reason.find("deadline"), std::string::npos) << e->last_failures()[0].reason;
  EXPECT_LT(e->last_results()[0].output_tokens, 100000u);
}

TEST(HostileServing, RequestDeadlineFlagsOnRunAndSweep) {
  FakeOpenAiOptions o;
  o.fault = [](std::uint64_t) { return FakeFault::kSlowDrip; };
  o.drip_interval_ms = 20;
  FakeOpenAiServer server(o);
  testing::TempDir dir;
  const CliRun run =
      run_cli({"run", "--engine", "openai", "--url", server.base_url(), "-B", "1", "-I", "4", "-O", "100000",
               "--warmup", "0", "--request-deadline", "0.5", "--sensor", "cpu-model", "--json"},
              dir);
  EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
  const auto j = parse(run.out);
  ASSERT_FALSE(j.is_discarded()) << run.out;
  ASSERT_EQ(j["openai"]["failures"].size(), 1u);
  EXPECT_NE(j["openai"]["failures"][0]["error"].get<std::string>().find("deadline"), std::string::npos);
  EXPECT_EQ(
      run_cli({"run", "--engine", "openai", "--url", server.base_url(), "--request-deadline", "0"}, dir).exit_code, 2);
  // sweep: every request of the batch failed, so the cell is stored failed and the sweep stops.
  const std::string db = (dir.path() / "deadline.db").string();
  const CliRun sweep = run_cli({"sweep",
                                "--store",
                                db,
                                "--engine",
                                "openai",
                                "--setting",
                                "url=" + server.base_url(),
                                "--request-deadline",
                                "0.5",
                                "-I",
                                "4",
                                "-O",
                                "100000",
                                "-B",
                                "1",
                                "--warmup",
                                "0",
                                "--reps",
                                "1",
                                "--sensor",
                                "cpu-model",
                                "--no-progress"},
                               dir);
  EXPECT_EQ(sweep.exit_code, 1) << sweep.out << sweep.err;
  EXPECT_NE(sweep.err.find("every request of a batch failed"), std::string::npos) << sweep.err;
  auto store = study::Store::open(db);
  ASSERT_TRUE(store.ok());
  auto cells = store->cells();
  ASSERT_TRUE(cells.ok());
  ASSERT_EQ(cells->size(), 1u);
  EXPECT_EQ(cells->front().status, study::CellStatus::kFailed);
  ASSERT_EQ(cells->front().failures.size(), 1u);
  EXPECT_NE(cells->front().failures[0].reason.find("deadline"), std::string::npos);
}

TEST(HostileServing, DefaultDeadlineFormulaAndValidation) {
  // max(60 s, timeout + (I + O) / 1 token/s)
  EXPECT_DOUBLE_EQ(default_request_deadline_s(60.0, 128, 32), 220.0);
  EXPECT_DOUBLE_EQ(default_request_deadline_s(1.0, 8, 4), 60.0);
  OpenAiConfig c;
  c.url = "http://127.0.0.1:1";
  c.request_deadline_s = 0.0;
  EXPECT_EQ(OpenAiClient::open(c).error().code, Errc::kInvalidArgument);
  c.request_deadline_s = -1.0;
  EXPECT_EQ(OpenAiClient::open(c).error().code, Errc::kInvalidArgument);
  c.request_deadline_s = 5.0;
  EXPECT_TRUE(OpenAiClient::open(c).ok());
}

TEST(HostileServing, SseCommentsAreNotDataProgress) {
  SseParser p;
  std::vector<SseEvent> out;
  ASSERT_TRUE(p.feed(": ping\n\n: pi", out).ok());
  EXPECT_TRUE(out.empty());
  EXPECT_FALSE(p.data_pending());
  ASSERT_TRUE(p.feed("ng\n\nda", out).ok());
  EXPECT_TRUE(p.data_pending());
  ASSERT_TRUE(p.feed("ta: {}\n", out).ok());
  EXPECT_TRUE(p.data_pending());
  ASSERT_TRUE(p.feed("\n", out).ok());
  EXPECT_EQ(out.size(), 1u);
  EXPECT_FALSE(p.data_pending());
}

}  // namespace
}  // namespace jouleperf
