// CUDA_VISIBLE_DEVICES mapped to NVML indices (select_visible_gpus), on its own; the same
// through open_nvml_sensors against the fake NVML is in nvml_test.cpp.
#include "jouleperf/sensor/nvml_visible.hpp"

#include <gtest/gtest.h>

namespace jouleperf {
namespace {

const std::vector<NvmlGpuId> kGpus = {
    {0, "GPU-8932f937-d72c-4106-c12f-20bd9faed9f6"},
    {1, "GPU-8932f9aa-0000-4106-c12f-20bd9faed9f6"},
    {2, "GPU-1c0ffee0-1111-2222-3333-444455556666"},
};

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(NvmlVisible, IndicesAreNvmlIndicesInNvmlOrder) {
  auto r = select_visible_gpus("2,0", kGpus);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(*r, (std::vector<unsigned>{0, 2}));
  auto spaced = select_visible_gpus(" 1 , 2 ", kGpus);
  ASSERT_TRUE(spaced) << spaced.error().to_string();
  EXPECT_EQ(*spaced, (std::vector<unsigned>{1, 2}));
}

TEST(NvmlVisible, UuidsAndTheirUniquePrefixes) {
  auto full = select_visible_gpus("GPU-1c0ffee0-1111-2222-3333-444455556666", kGpus);
  ASSERT_TRUE(full) << full.error().to_string();
  EXPECT_EQ(*full, (std::vector<unsigned>{2}));
  auto prefix = select_visible_gpus("GPU-8932f937,GPU-1c0", kGpus);
  ASSERT_TRUE(prefix) << prefix.error().to_string();
  EXPECT_EQ(*prefix, (std::vector<unsigned>{0, 2}));
  auto mixed = select_visible_gpus("1,GPU-8932f937", kGpus);
  ASSERT_TRUE(mixed) << mixed.error().to_string();
  EXPECT_EQ(*mixed, (std::vector<unsigned>{0, 1}));
}

TEST(NvmlVisible, APrefixSeveralGpusShareIsAnError) {
  auto r = select_visible_gpus("GPU-8932f9", kGpus);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
  EXPECT_TRUE(contains(r.error().message, "'GPU-8932f9'")) << r.error().message;
  EXPECT_TRUE(contains(r.error().message, "2 GPUs")) << r.error().message;
}

TEST(NvmlVisible, AnEntryNamingNoGpuIsAnErrorNamingIt) {
  auto index = select_visible_gpus("0,3", kGpus);
  ASSERT_FALSE(index);
  EXPECT_EQ(index.error().code, Errc::kNotFound);
  EXPECT_TRUE(contains(index.error().message, "CUDA_VISIBLE_DEVICES entry '3'")) << index.error().message;
  EXPECT_TRUE(contains(index.error().message, "2: GPU-1c0ffee0")) << index.error().message;  // lists the GPUs

  auto uuid = select_visible_gpus("GPU-deadbeef", kGpus);
  ASSERT_FALSE(uuid);
  EXPECT_EQ(uuid.error().code, Errc::kNotFound);
  EXPECT_TRUE(contains(uuid.error().message, "'GPU-deadbeef'")) << uuid.error().message;
  EXPECT_TRUE(contains(uuid.error().message, "nvidia-smi -L")) << uuid.error().message;

  auto junk = select_visible_gpus("0,gpu1", kGpus);
  ASSERT_FALSE(junk);
  EXPECT_EQ(junk.error().code, Errc::kInvalidArgument);
  EXPECT_TRUE(contains(junk.error().message, "'gpu1'")) << junk.error().message;

  auto blank = select_visible_gpus("0,,1", kGpus);
  ASSERT_FALSE(blank);
  EXPECT_EQ(blank.error().code, Errc::kInvalidArgument);
}

TEST(NvmlVisible, AGpuNamedTwiceIsAnError) {
  auto r = select_visible_gpus("0,GPU-8932f937", kGpus);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
  EXPECT_TRUE(contains(r.error().message, "GPU 0 a second time")) << r.error().message;
}

TEST(NvmlVisible, MigInstancesAreUnsupported) {
  for (const char* mig : {"MIG-GPU-8932f937-d72c-4106-c12f-20bd9faed9f6/1/2",
                          "MIG-4a5b6c7d-0000-1111-2222-333344445555", "0,MIG-4a5b6c7d"}) {
    auto r = select_visible_gpus(mig, kGpus);
    ASSERT_FALSE(r) << mig;
    EXPECT_EQ(r.error().code, Errc::kUnsupported) << mig;
    EXPECT_TRUE(contains(r.error().message, "MIG instance")) << r.error().message;
  }
}

TEST(NvmlVisible, EmptyOrMinusOneMeansNoGpuAndANegativeEntryEndsTheList) {
  for (const char* none : {"", " ", "-1"}) {
    auto r = select_visible_gpus(none, kGpus);
    ASSERT_TRUE(r) << none << ": " << r.error().to_string();
    EXPECT_TRUE(r->empty()) << none;
  }
  auto cut = select_visible_gpus("2,0,-1,1,junk", kGpus);  // as CUDA: what follows -1 is not visible
  ASSERT_TRUE(cut) << cut.error().to_string();
  EXPECT_EQ(*cut, (std::vector<unsigned>{0, 2}));
}

TEST(NvmlVisible, AGpuWithoutAUuidIsNamedByIndexOnly) {
  const std::vector<NvmlGpuId> gpus = {{0, ""}, {1, "GPU-1c0ffee0-1111-2222-3333-444455556666"}};
  auto by_index = select_visible_gpus("0", gpus);
  ASSERT_TRUE(by_index) << by_index.error().to_string();
  EXPECT_EQ(*by_index, (std::vector<unsigned>{0}));
  auto by_uuid = select_visible_gpus("GPU-", gpus);  // the one GPU with a UUID
  ASSERT_TRUE(by_uuid) << by_uuid.error().to_string();
  EXPECT_EQ(*by_uuid, (std::vector<unsigned>{1}));
}

}  // namespace
}  // namespace jouleperf
