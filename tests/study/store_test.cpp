#include "jouleperf/study/store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "support/temp_dir.hpp"

namespace jouleperf::study {
namespace {

using testing::TempDir;

Config make_config(const std::string& name, const std::string& engine = "sim") {
  Config c;
  c.name = name;
  c.engine = engine;
  c.model = "llama-3.1-8b";
  c.settings = {{"stack", "vllm"}, {"hardware", "h100-sxm"}};
  return c;
}

CellResult make_cell(const Config& c, std::uint64_t i, std::uint64_t o, std::uint64_t b, double energy_j) {
  CellResult r;
  r.key = CellKey{c.name, i, o, b};
  r.config_key = c.key();
  r.warmup = 2;
  for (int k = 0; k < 3; ++k) {
    Repetition rep;
    rep.energy_j = energy_j + k;
    rep.prefill_energy_j = energy_j / 4;
    rep.decode_energy_j = energy_j * 3 / 4 + k;
    rep.duration_s = 1.5;
    rep.prefill_s = 0.5;
    rep.decode_s = 1.0;
    r.reps.push_back(rep);
  }
  r.energy_source = "simulated";
  r.estimated = true;
  r.simulated = true;
  r.conditions = {{"hardware", "h100-sxm"}};
  r.finished_unix_s = 1700000000.0;
  return r;
}

TEST(Store, RoundTripsConfigsCellsAndArtifacts) {
  TempDir dir;
  const std::string path = (dir.path() / "s.db").string();
  const Config c = make_config("base");
  {
    auto s = Store::open(path);
    ASSERT_TRUE(s) << s.error().to_string();
    ASSERT_TRUE(s->put_config(c));
    ASSERT_TRUE(s->put_cell(make_cell(c, 128, 32, 4, 100.0)));
    ASSERT_TRUE(s->put_cell(make_cell(c, 64, 32, 1, 10.0)));
    ASSERT_TRUE(s->put_artifact(Artifact{"estimate", "conv", {{"energy_j", 5.0}}, 0.0}));
  }
  auto s = Store::open(path);  // reopened: everything was durable
  ASSERT_TRUE(s) << s.error().to_string();
  auto cs = s->configs();
  ASSERT_TRUE(cs);
  ASSERT_EQ(cs->size(), 1u);
  EXPECT_EQ((*cs)[0].key(), c.key());
  auto cells = s->cells();
  ASSERT_TRUE(cells);
  ASSERT_EQ(cells->size(), 2u);
  EXPECT_EQ((*cells)[0].key, (CellKey{"base", 64, 32, 1}));  // ordered by key
  EXPECT_EQ((*cells)[1].key, (CellKey{"base", 128, 32, 4}));
  EXPECT_EQ((*cells)[1].reps.size(), 3u);
  EXPECT_DOUBLE_EQ((*cells)[1].reps[2].energy_j, 102.0);
  EXPECT_DOUBLE_EQ((*cells)[1].energy_per_batch_j().mean, 101.0);
  EXPECT_EQ((*cells)[1].energy_source, "simulated");
  auto one = s->cell(CellKey{"base", 128, 32, 4});
  ASSERT_TRUE(one);
  ASSERT_TRUE(one->has_value());
  EXPECT_EQ((*one)->config_key, c.key());
  auto none = s->cell(CellKey{"base", 128, 32, 8});
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  auto arts = s->artifacts("estimate");
  ASSERT_TRUE(arts);
  ASSERT_EQ(arts->size(), 1u);
  EXPECT_EQ((*arts)[0].body["energy_j"], 5.0);
  EXPECT_GT((*arts)[0].stored_unix_s, 0.0);
  auto other = s->artifacts("replay");
  ASSERT_TRUE(other);
  EXPECT_TRUE(other->empty());
}

TEST(Store, RemoveArtifactRemovesOneDocumentDurably) {
  TempDir dir;
  const std::string path = (dir.path() / "s.db").string();
  {
    auto s = Store::open(path);
    ASSERT_TRUE(s) << s.error().to_string();
    ASSERT_TRUE(s->put_artifact(Artifact{"fidelity", "study", {{"v", 1}}, 0.0}));
    ASSERT_TRUE(s->put_artifact(Artifact{"fidelity", "old.csv", {{"v", 2}}, 0.0}));
    ASSERT_TRUE(s->put_artifact(Artifact{"estimate", "study", {{"v", 3}}, 0.0}));
    auto st = s->remove_artifact("fidelity", "study");
    ASSERT_TRUE(st) << st.error().to_string();
    EXPECT_TRUE(s->remove_artifact("fidelity", "study"));  // absent: succeeds, changes nothing
    EXPECT_EQ(s->remove_artifact("", "study").error().code, Errc::kInvalidArgument);
    EXPECT_EQ(s->remove_artifact("fidelity", "").error().code, Errc::kInvalidArgument);
  }
  auto r = Store::open(path, StoreMode::kReadOnly);  // reopened: the removal was durable
  ASSERT_TRUE(r) << r.error().to_string();
  auto left = r->artifacts();
  ASSERT_TRUE(left);
  ASSERT_EQ(left->size(), 2u);  // only (fidelity, study) went: same name in another kind and same kind stay
  EXPECT_EQ((*left)[0].kind, "estimate");
  EXPECT_EQ((*left)[1].name, "old.csv");
  EXPECT_EQ(r->remove_artifact("fidelity", "old.csv").error().code, Errc::kPermissionDenied);
  EXPECT_EQ(r->artifacts("fidelity")->size(), 1u);
}

TEST(Store, PutCellReplacesTheSameKey) {
  TempDir dir;
  auto s = Store::open((dir.path() / "s.db").string());
  ASSERT_TRUE(s);
  const Config c = make_config("base");
  ASSERT_TRUE(s->put_cell(make_cell(c, 128, 32, 4, 100.0)));
  CellResult skipped = make_cell(c, 128, 32, 4, 0.0);
  skipped.status = CellStatus::kSkipped;
  skipped.reps.clear();
  skipped.reason = "does not fit";
  ASSERT_TRUE(s->put_cell(skipped));
  auto cells = s->cells();
  ASSERT_TRUE(cells);
  ASSERT_EQ(cells->size(), 1u);
  EXPECT_EQ((*cells)[0].status, CellStatus::kSkipped);
  EXPECT_EQ((*cells)[0].reason, "does not fit");
}

TEST(Store, RefusesAConfigWhoseKeyChanged) {
  TempDir dir;
  auto s = Store::open((dir.path() / "s.db").string());
  ASSERT_TRUE(s);
  Config c = make_config("base");
  ASSERT_TRUE(s->put_config(c));
  Config reordered = c;
  std::swap(reordered.settings[0], reordered.settings[1]);
  EXPECT_TRUE(s->put_config(reordered)) << "settings order must not matter";
  c.threads = 4;
  auto st = s->put_config(c);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::kInvalidArgument);
  EXPECT_NE(st.error().message.find("\"base\""), std::string::npos) << st.error().message;
}

TEST(Store, RefusesAFileThatIsNotAStore) {
  TempDir dir;
  const auto text = dir.write("not.db", "this is plain text, not SQLite, and long enough to have a header......\n");
  auto s = Store::open(text.string());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::kParse);
  EXPECT_NE(s.error().message.find(text.string()), std::string::npos) << s.error().message;

  // Another SQLite database.
  const std::string other = (dir.path() / "other.db").string();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(other.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE t(x)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto o = Store::open(other);
  ASSERT_FALSE(o);
  EXPECT_EQ(o.error().code, Errc::kParse);
  EXPECT_NE(o.error().message.find("not a jouleperf results store"), std::string::npos);

  auto missing_dir = Store::open((dir.path() / "no" / "such" / "dir.db").string());
  ASSERT_FALSE(missing_dir);
  EXPECT_EQ(missing_dir.error().code, Errc::kIo);
}

TEST(Store, RefusesANewerSchema) {
  TempDir dir;
  const std::string path = (dir.path() / "s.db").string();
  ASSERT_TRUE(Store::open(path));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version=99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto s = Store::open(path);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::kParse);
  EXPECT_NE(s.error().message.find("newer"), std::string::npos);
}

TEST(Store, MergeJoinsShardsAndKeepsIdenticalDuplicatesOnce) {
  TempDir dir;
  const Config c = make_config("base");
  const std::string a = (dir.path() / "a.db").string();
  const std::string b = (dir.path() / "b.db").string();
  const std::string out = (dir.path() / "out.db").string();
  {
    auto sa = Store::open(a);
    auto sb = Store::open(b);
    ASSERT_TRUE(sa && sb);
    ASSERT_TRUE(sa->put_config(c) && sb->put_config(c));
    ASSERT_TRUE(sa->put_cell(make_cell(c, 128, 32, 1, 10.0)));
    ASSERT_TRUE(sb->put_cell(make_cell(c, 128, 32, 4, 30.0)));
    CellResult dup = make_cell(c, 256, 32, 1, 20.0);
    ASSERT_TRUE(sa->put_cell(dup));
    dup.finished_unix_s += 60;  // stored at another time: still the same result
    ASSERT_TRUE(sb->put_cell(dup));
    ASSERT_TRUE(sa->put_artifact(Artifact{"estimate", "x", {{"v", 1}}, 1.0}));
  }
  auto st = merge_stores({a, b}, out);
  ASSERT_TRUE(st) << st.error().to_string();
  auto s = Store::open(out, StoreMode::kReadOnly);  // a reader: merge below is the writer
  ASSERT_TRUE(s);
  auto cells = s->cells();
  ASSERT_TRUE(cells);
  ASSERT_EQ(cells->size(), 3u);
  EXPECT_EQ(s->configs()->size(), 1u);
  EXPECT_EQ(s->artifacts()->size(), 1u);
  // Merging again into the same output changes nothing.
  ASSERT_TRUE(merge_stores({a, b}, out));
  EXPECT_EQ(Store::open(out)->cells()->size(), 3u);
}

TEST(Store, MergeRefusesConflicts) {
  TempDir dir;
  const Config c = make_config("base");
  Config changed = c;
  changed.threads = 8;
  const std::string a = (dir.path() / "a.db").string();
  const std::string b = (dir.path() / "b.db").string();
  const std::string d = (dir.path() / "d.db").string();
  {
    auto sa = Store::open(a);
    auto sb = Store::open(b);
    auto sd = Store::open(d);
    ASSERT_TRUE(sa && sb && sd);
    ASSERT_TRUE(sa->put_config(c));
    ASSERT_TRUE(sb->put_config(changed));
    ASSERT_TRUE(sa->put_cell(make_cell(c, 128, 32, 1, 10.0)));
    ASSERT_TRUE(sd->put_config(c));
    ASSERT_TRUE(sd->put_cell(make_cell(c, 128, 32, 1, 11.0)));  // same cell, another result
  }
  auto st = merge_stores({a, b}, (dir.path() / "o1.db").string());
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::kInvalidArgument);
  EXPECT_NE(st.error().message.find("config \"base\""), std::string::npos) << st.error().message;

  st = merge_stores({a, d}, (dir.path() / "o2.db").string());
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::kInvalidArgument);
  EXPECT_NE(st.error().message.find("base I=128 O=32 B=1"), std::string::npos) << st.error().message;

  st = merge_stores({a, (dir.path() / "missing.db").string()}, (dir.path() / "o3.db").string());
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::kNotFound);
}

}  // namespace
}  // namespace jouleperf::study
