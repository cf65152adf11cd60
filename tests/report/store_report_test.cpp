// A report's data read back from a real results store gives the same report as the
// in-memory data it was written from.
#include <gtest/gtest.h>

#include "jouleperf/report/html.hpp"
#include "jouleperf/report/report_data.hpp"
#include "jouleperf/report/tables.hpp"
#include "report/fixture.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf::report {
namespace {

TEST(StoreReport, LoadsEverythingTheStoreHolds) {
  const auto data = testing::realistic_report_data();
  testing::TempDir dir;
  const std::string path = (dir.path() / "study.sqlite").string();
  {
    auto store = study::Store::open(path);
    ASSERT_TRUE(store.ok()) << store.error().to_string();
    for (const auto& c : data.configs) ASSERT_TRUE(store->put_config(c).ok());
    for (const auto& c : data.cells) ASSERT_TRUE(store->put_cell(c).ok());
    for (const auto& a : data.artifacts) ASSERT_TRUE(store->put_artifact(a).ok());
  }
  auto store = study::Store::open(path);
  ASSERT_TRUE(store.ok());
  auto loaded = load_report_data(*store);
  ASSERT_TRUE(loaded.ok()) << loaded.error().to_string();
  EXPECT_EQ(loaded->configs.size(), data.configs.size());
  EXPECT_EQ(loaded->cells.size(), data.cells.size());
  EXPECT_EQ(loaded->artifacts.size(), data.artifacts.size());
  ASSERT_TRUE(loaded->sensor_note().has_value());
  // The same tables from the store as from memory.
  auto a = report_tables(data);
  auto b = report_tables(*loaded);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->size(), b->size());
  for (std::size_t i = 0; i < a->size(); ++i) {
    // Rows may come back in another order (the store orders cells by key).
    EXPECT_EQ((*a)[i].rows.size(), (*b)[i].rows.size()) << (*a)[i].name;
  }
  auto charts = build_charts(*loaded);
  ASSERT_TRUE(charts.ok());
  for (const auto& c : *charts) EXPECT_FALSE(c.spec.is_null()) << c.id;
}

}  // namespace
}  // namespace jouleperf::report
