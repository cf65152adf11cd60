// Built-in hardware profiles (figures against their datasheets, a source for each),
// look-ups by name and alias, and user profiles from JSON files.
#include "jouleperf/hardware/registry.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jouleperf/hardware/profile_json.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf::hardware {
namespace {

HardwareProfile get(const HardwareRegistry& r, const char* name) {
  auto p = r.find(name);
  if (!p.ok()) {
    ADD_FAILURE() << name << ": " << p.error().message;
    return HardwareProfile{};
  }
  return std::move(*p);
}

TEST(HardwareBuiltins, EveryRequiredDeviceIsThereAndValid) {
  HardwareRegistry r;
  for (const char* n : {"a6000", "a100-pcie", "a100-sxm", "rtx-6000-ada", "l40s", "h100-sxm", "h100-pcie", "h200",
                        "b200", "epyc-7763", "epyc-9654", "xeon-8480"}) {
    const HardwareProfile p = get(r, n);
    EXPECT_TRUE(validate_profile(p).ok()) << n;
    // Every figure the simulator uses has a source beside it.
    for (const char* field : {"peak_flops.fp32", "peak_flops.tf32", "peak_flops.bf16", "peak_flops.fp8",
                              "peak_flops.int8", "memory_bandwidth_bps", "memory_bytes", "tdp_w", "idle_w", "tp_link"})
      EXPECT_FALSE(p.source_of(field).empty()) << n << " " << field;
    EXPECT_LT(p.idle_w, p.tdp_w) << n;
    EXPECT_NE(p.source_of("idle_w").find("estimate"), std::string::npos) << n << ": idle figures are estimates";
  }
}

TEST(HardwareBuiltins, DenseRatesAreHalfTheSparseDatasheetFigures) {
  HardwareRegistry r;
  const HardwareProfile h = get(r, "h100-sxm");
  EXPECT_DOUBLE_EQ(h.peak_flops.bf16, 989.4e12);  // datasheet: 1,979 TFLOPS with sparsity
  EXPECT_DOUBLE_EQ(h.peak_flops.fp8, 1978.9e12);  // 3,958 with sparsity
  EXPECT_DOUBLE_EQ(h.memory_bandwidth_bps, 3.35e12);
  EXPECT_DOUBLE_EQ(h.tdp_w, 700);
  EXPECT_DOUBLE_EQ(h.tp_link.bandwidth_bps, 450e9);  // 900 GB/s bidirectional
  EXPECT_EQ(h.max_tp, 8u);
  const HardwareProfile a = get(r, "a100-sxm");
  EXPECT_DOUBLE_EQ(a.peak_flops.bf16, 312e12);
  EXPECT_DOUBLE_EQ(a.peak_flops.fp8, 0.0);  // Ampere: no FP8
  EXPECT_DOUBLE_EQ(a.memory_bandwidth_bps, 2039e9);
  const HardwareProfile pcie = get(r, "a100-pcie");
  EXPECT_DOUBLE_EQ(pcie.memory_bandwidth_bps, 1935e9);
  EXPECT_DOUBLE_EQ(pcie.tdp_w, 300);
  const HardwareProfile a6 = get(r, "a6000");
  EXPECT_DOUBLE_EQ(a6.peak_flops.bf16, 154.8e12);
  EXPECT_DOUBLE_EQ(a6.memory_bandwidth_bps, 768e9);
  EXPECT_DOUBLE_EQ(get(r, "l40s").peak_flops.bf16, 362.05e12);
  EXPECT_DOUBLE_EQ(get(r, "h200").memory_bandwidth_bps, 4.8e12);
  EXPECT_DOUBLE_EQ(get(r, "b200").peak_flops.bf16, 2250e12);
  // Derived CPU peak: 64 cores x 2.45 GHz x 32 FP32 FLOP/cycle.
  EXPECT_NEAR(get(r, "epyc-7763").peak_flops.fp32, 64 * 2.45e9 * 32, 0.01e12);
  EXPECT_NEAR(get(r, "xeon-8480").peak_flops.bf16, 56 * 2.0e9 * 1024, 0.1e12);
}

TEST(HardwareRegistry, FindsByAliasIgnoringCaseAndSeparators) {
  HardwareRegistry r;
  EXPECT_EQ(get(r, "H100").name, "h100-sxm");
  EXPECT_EQ(get(r, "RTX_A6000").name, "a6000");
  EXPECT_EQ(get(r, "Xeon Platinum 8480+").name, "xeon-8480");
  auto missing = r.find("tpu-v5");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::kNotFound);
  EXPECT_NE(missing.error().message.find("h100-sxm"), std::string::npos);  // lists the known ones
}

TEST(HardwareRegistry, RejectsDuplicateNamesUnlessReplacing) {
  HardwareRegistry r;
  HardwareProfile p = get(r, "l40s");
  p.aliases = {"h100"};  // taken by h100-sxm
  p.name = "my-l40s";
  auto st = r.add(p);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, Errc::kInvalidArgument);
  p.idle_w = p.tdp_w + 1;
  EXPECT_FALSE(r.add(p, true).ok());  // invalid: idle above TDP
}

TEST(HardwareJson, UserProfileBasedOnABuiltin) {
  testing::TempDir dir;
  auto path = dir.write("p.json", R"({"profiles": [
    {"name": "h100-capped", "based_on": "h100-sxm", "tdp_w": 500, "idle_w": 90,
     "sources": {"tdp_w": "nvidia-smi -pl 500"}},
    {"name": "tiny-gpu", "kind": "gpu", "peak_flops": {"fp16": 1e14, "fp32": 1e13},
     "memory_bandwidth_bps": 5e11, "memory_bytes": 2.4e10, "tdp_w": 200, "idle_w": 20}
  ]})");
  HardwareRegistry r;
  ASSERT_TRUE(r.load_file(path.string()).ok());
  const HardwareProfile c = get(r, "h100-capped");
  EXPECT_DOUBLE_EQ(c.tdp_w, 500);
  EXPECT_DOUBLE_EQ(c.peak_flops.bf16, 989.4e12);  // inherited
  EXPECT_EQ(c.source_of("tdp_w"), "nvidia-smi -pl 500");
  EXPECT_NE(c.source_of("idle_w").find("user profile"), std::string::npos);
  EXPECT_NE(c.source_of("peak_flops.bf16").find("datasheet"), std::string::npos);  // inherited source
  EXPECT_EQ(c.origin, path.string());
  EXPECT_EQ(get(r, "h100").name, "h100-sxm");  // the renamed copy does not steal the alias
  const HardwareProfile t = get(r, "tiny-gpu");
  EXPECT_DOUBLE_EQ(t.peak_flops.bf16, 1e14);  // "fp16" is the bf16 rate
  // Round trip through to_json.
  const HardwareProfile empty;
  auto back = profile_from_json(to_json(t), empty, "x");
  ASSERT_TRUE(back.ok());
  EXPECT_DOUBLE_EQ(back->memory_bandwidth_bps, 5e11);
  EXPECT_EQ(back->name, "tiny-gpu");
}

TEST(HardwareJson, BadFilesFailWithoutAddingAnything) {
  testing::TempDir dir;
  HardwareRegistry r;
  const auto before = r.profiles().size();
  struct Case {
    const char* text;
    Errc code;
  } cases[] = {
      {"{not json", Errc::kParse},
      {R"({"name": "x", "tdp_w": "700"})", Errc::kParse},                                  // wrong type
      {R"({"name": "x", "tdp": 700})", Errc::kParse},                                      // unknown key
      {R"([{"name": "ok", "based_on": "h100"}, {"name": "y"}])", Errc::kInvalidArgument},  // y: no figures
      {R"({"name": "x", "based_on": "nope"})", Errc::kInvalidArgument},
      {R"({"based_on": "h100", "tdp_w": 600})", Errc::kParse},  // no name
  };
  for (const auto& c : cases) {
    auto path = dir.write("bad.json", c.text);
    auto st = r.load_file(path.string());
    ASSERT_FALSE(st.ok()) << c.text;
    EXPECT_EQ(st.error().code, c.code) << c.text << ": " << st.error().message;
    EXPECT_EQ(r.profiles().size(), before) << c.text;
  }
  auto st = r.load_file((dir.path() / "absent.json").string());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, Errc::kNotFound);
}

TEST(HardwareJson, UnreadableFileIsPermissionDenied) {
  testing::TempDir dir;
  auto path = dir.write("secret.json", R"({"name": "x", "based_on": "h100"})");
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
  // Root reads anything: check from a child that drops to nobody.
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(3);
    HardwareRegistry r;
    auto st = r.load_file(path.string());
    ::_exit(!st.ok() && st.error().code == Errc::kPermissionDenied ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 3) GTEST_SKIP() << "cannot drop privileges here";
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace jouleperf::hardware
