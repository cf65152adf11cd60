// Runs of online load and their requests in the results store: written in one
// transaction, read back exactly (failed requests with their reason), merged.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "jouleperf/study/store.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf::study {
namespace {

using testing::TempDir;

RunRecord make_run(const std::string& id) {
  RunRecord r;
  r.run_id = id;
  r.kind = "rate-sweep";
  r.engine = "openai";
  r.target = "http://127.0.0.1:8080";
  r.model = "tiny";
  r.started_unix_s = 1700000123.25;
  r.info = {{"rates_rps", {1.0, 2.5}}, {"idle_gap_s", 5.0}, {"phases", nlohmann::json::array()}};
  return r;
}

std::vector<RequestRecord> make_requests() {
  std::vector<RequestRecord> v;
  RequestRecord ok;
  ok.index = 0;
  ok.phase = "rate-1";
  ok.scheduled_s = 0.1234567890123;
  ok.send_s = 0.12350001;
  ok.lateness_s = ok.send_s - ok.scheduled_s;
  ok.end_s = 0.9876543210987;
  ok.input_tokens_asked = 128;
  ok.output_tokens_asked = 3;
  ok.output_tokens = 3;
  ok.usage_prompt_tokens = 128;
  ok.usage_completion_tokens = 3;
  ok.token_s = {0.2000000000001, 0.3333333333333333, 0.9};
  ok.ttft_s = ok.token_s.front() - ok.send_s;
  ok.ok = true;
  ok.http_status = 200;
  ok.finish_reason = "length";
  v.push_back(ok);
  RequestRecord failed;
  failed.index = 1;
  failed.phase = "rate-2.5";
  failed.scheduled_s = 6.5;
  failed.send_s = 6.5001;
  failed.lateness_s = 0.0001;
  failed.end_s = 6.52;
  failed.input_tokens_asked = 128;
  failed.output_tokens_asked = 3;
  failed.ok = false;
  failed.http_status = 500;
  failed.error = "HTTP 500: {\"error\":\"boom\"}";
  v.push_back(failed);
  RequestRecord stalled = failed;
  stalled.index = 2;
  stalled.http_status = 200;
  stalled.error = "stalled: no byte for 60 s";
  stalled.token_s = {6.6, 6.7};
  stalled.ttft_s = 0.0999;
  stalled.output_tokens = 2;
  stalled.mismatch = "2 output tokens, 3 asked";
  v.push_back(stalled);
  return v;
}

TEST(StoreRuns, RoundTripsARunAndEveryRequestExactly) {
  TempDir dir;
  const std::string path = (dir.path() / "s.db").string();
  const RunRecord run = make_run("replay-1");
  const auto reqs = make_requests();
  {
    auto s = Store::open(path);
    ASSERT_TRUE(s) << s.error().to_string();
    auto st = s->put_run(run, reqs);
    ASSERT_TRUE(st) << st.error().to_string();
  }
  auto s = Store::open(path);  // reopened: durable
  ASSERT_TRUE(s);
  auto runs = s->runs();
  ASSERT_TRUE(runs) << runs.error().to_string();
  ASSERT_EQ(runs->size(), 1u);
  const RunRecord& r = (*runs)[0];
  EXPECT_EQ(r.run_id, run.run_id);
  EXPECT_EQ(r.kind, run.kind);
  EXPECT_EQ(r.engine, run.engine);
  EXPECT_EQ(r.target, run.target);
  EXPECT_EQ(r.model, run.model);
  EXPECT_EQ(r.started_unix_s, run.started_unix_s);
  EXPECT_EQ(r.info, run.info);
  auto back = s->requests("replay-1");
  ASSERT_TRUE(back) << back.error().to_string();
  ASSERT_EQ(back->size(), reqs.size());
  for (std::size_t i = 0; i < reqs.size(); ++i) EXPECT_TRUE((*back)[i] == reqs[i]) << "request " << i;
  EXPECT_FALSE((*back)[1].ok);
  EXPECT_EQ((*back)[1].error, "HTTP 500: {\"error\":\"boom\"}");
  EXPECT_FALSE((*back)[1].ttft_s.has_value());
  EXPECT_FALSE((*back)[1].usage_prompt_tokens.has_value());
  EXPECT_EQ((*back)[2].token_s, (std::vector<double>{6.6, 6.7}));
  // An unknown run has no requests.
  EXPECT_TRUE(s->requests("nope")->empty());
}

TEST(StoreRuns, PutRunReplacesTheSameIdAndRefusesEmptyIds) {
  TempDir dir;
  auto s = Store::open((dir.path() / "s.db").string());
  ASSERT_TRUE(s);
  auto reqs = make_requests();
  ASSERT_TRUE(s->put_run(make_run("a"), reqs));
  reqs.pop_back();
  ASSERT_TRUE(s->put_run(make_run("a"), reqs));
  EXPECT_EQ(s->runs()->size(), 1u);
  EXPECT_EQ(s->requests("a")->size(), 2u);
  RunRecord bad = make_run("");
  EXPECT_EQ(s->put_run(bad, {}).error().code, Errc::kInvalidArgument);
}

TEST(StoreRuns, AStoreWrittenBeforeTheRunTablesGetsThem) {
  TempDir dir;
  const std::string path = (dir.path() / "old.db").string();
  ASSERT_TRUE(Store::open(path));
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "DROP TABLE runs; DROP TABLE requests;", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  auto s = Store::open(path);
  ASSERT_TRUE(s) << s.error().to_string();
  ASSERT_TRUE(s->put_run(make_run("r"), make_requests()));
  EXPECT_EQ(s->requests("r")->size(), 3u);
}

TEST(StoreRuns, MergeCopiesRunsAndRefusesADifferentRunOfTheSameId) {
  TempDir dir;
  const std::string a = (dir.path() / "a.db").string();
  const std::string b = (dir.path() / "b.db").string();
  const std::string out = (dir.path() / "out.db").string();
  {
    auto sa = Store::open(a);
    auto sb = Store::open(b);
    ASSERT_TRUE(sa && sb);
    ASSERT_TRUE(sa->put_run(make_run("r1"), make_requests()));
    ASSERT_TRUE(sb->put_run(make_run("r2"), make_requests()));
    ASSERT_TRUE(sb->put_run(make_run("r1"), make_requests()));  // identical duplicate: kept once
  }
  auto st = merge_stores({a, b}, out);
  ASSERT_TRUE(st) << st.error().to_string();
  {
    auto s = Store::open(out);
    ASSERT_TRUE(s);
    ASSERT_EQ(s->runs()->size(), 2u);
    EXPECT_EQ(*s->requests("r2"), make_requests());
  }
  {
    auto sb = Store::open(b);
    auto changed = make_requests();
    changed[0].output_tokens = 2;
    ASSERT_TRUE(sb->put_run(make_run("r1"), changed));
  }
  auto bad = merge_stores({a, b}, (dir.path() / "out2.db").string());
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::kInvalidArgument);
  EXPECT_NE(bad.error().message.find("r1"), std::string::npos);
}

}  // namespace
}  // namespace jouleperf::study
