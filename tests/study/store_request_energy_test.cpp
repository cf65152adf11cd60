// Per-request energy in the results store (issue 17): stored and read back with every
// request; a store written before the columns existed reads (energies unset) and gains
// them when opened for writing; merge keeps them.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "jouleperf/study/store.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf {
namespace {

study::RunRecord a_run() {
  study::RunRecord r;
  r.run_id = "replay-1";
  r.kind = "replay";
  r.engine = "openai";
  r.target = "http://127.0.0.1:1";
  r.info = nlohmann::json::object();
  return r;
}

study::RequestRecord a_request(std::uint64_t index, std::optional<double> energy) {
  study::RequestRecord q;
  q.index = index;
  q.phase = "replay";
  q.end_s = 1.0;
  q.input_tokens_asked = 16;
  q.output_tokens_asked = 4;
  q.output_tokens = 4;
  q.token_s = {0.2, 0.4, 0.6, 0.8};
  q.ok = true;
  if (energy) {
    q.energy_j = *energy;
    q.prefill_j = *energy * 0.25;
    q.decode_j = *energy * 0.75;
    q.idle_j = 0.0;
    q.above_idle_j = *energy * 0.5;
    q.attribution = "black-box; equal cost per token; idle policy none";
  }
  return q;
}

void drop_energy_columns(const std::string& path) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  for (const char* c : {"energy_j", "prefill_j", "decode_j", "idle_j", "above_idle_j", "attribution"}) {
    const std::string sql = std::string("ALTER TABLE requests DROP COLUMN ") + c;
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  }
  sqlite3_close(db);
}

TEST(StoreRequestEnergy, RoundTripsWithEveryRequest) {
  testing::TempDir dir;
  const std::string path = (dir.path() / "s.db").string();
  {
    auto s = study::Store::open(path);
    ASSERT_TRUE(s) << s.error().to_string();
    ASSERT_TRUE(s->put_run(a_run(), {a_request(0, 2.5), a_request(1, std::nullopt)}));
  }
  auto s = study::Store::open(path, study::StoreMode::kReadOnly);
  ASSERT_TRUE(s);
  auto reqs = s->requests("replay-1");
  ASSERT_TRUE(reqs && reqs->size() == 2);
  EXPECT_EQ((*reqs)[0], a_request(0, 2.5));
  EXPECT_FALSE((*reqs)[1].energy_j);
  EXPECT_TRUE((*reqs)[1].attribution.empty());
}

TEST(StoreRequestEnergy, AnOlderStoreReadsAndGainsTheColumnsWhenWritten) {
  testing::TempDir dir;
  const std::string path = (dir.path() / "old.db").string();
  {
    auto s = study::Store::open(path);
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->put_run(a_run(), {a_request(0, std::nullopt)}));
  }
  drop_energy_columns(path);
  {
    auto s = study::Store::open(path, study::StoreMode::kReadOnly);
    ASSERT_TRUE(s) << s.error().to_string();
    auto reqs = s->requests("replay-1");
    ASSERT_TRUE(reqs) << reqs.error().to_string();
    ASSERT_EQ(reqs->size(), 1u);
    EXPECT_FALSE(reqs->front().energy_j);
  }
  {
    auto s = study::Store::open(path);  // a writer: adds the columns
    ASSERT_TRUE(s) << s.error().to_string();
    ASSERT_TRUE(s->put_run(a_run(), {a_request(0, 7.0)}));
  }
  auto s = study::Store::open(path, study::StoreMode::kReadOnly);
  auto reqs = s->requests("replay-1");
  ASSERT_TRUE(reqs && reqs->size() == 1);
  EXPECT_EQ(reqs->front(), a_request(0, 7.0));
}

TEST(StoreRequestEnergy, MergeKeepsThem) {
  testing::TempDir dir;
  const std::string in = (dir.path() / "in.db").string(), out = (dir.path() / "out.db").string();
  {
    auto s = study::Store::open(in);
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->put_run(a_run(), {a_request(0, 3.0), a_request(1, 4.0)}));
  }
  auto merged = study::merge_stores({in}, out);
  ASSERT_TRUE(merged.ok()) << merged.error().to_string();
  auto s = study::Store::open(out, study::StoreMode::kReadOnly);
  auto reqs = s->requests("replay-1");
  ASSERT_TRUE(reqs && reqs->size() == 2);
  EXPECT_EQ((*reqs)[1], a_request(1, 4.0));
}

}  // namespace
}  // namespace jouleperf
