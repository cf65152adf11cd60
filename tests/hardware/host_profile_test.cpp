// The host CPU profile: /proc/cpuinfo text parsed, peak rates from the flags, every
// figure sourced; bad text and bad power figures refused.
#include "jouleperf/hardware/host_profile.hpp"

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

namespace jouleperf::hardware {
namespace {

// Two processors as this project's CI VM reports them (trimmed flags), clocks differing.
constexpr const char* kAvx512Vm =
    "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Processor\n"
    "cpu MHz\t\t: 2300.000\nflags\t\t: fpu sse sse2 fma avx avx2 avx512f avx512_vnni avx512_bf16\n\n"
    "processor\t: 1\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Processor\n"
    "cpu MHz\t\t: 2400.000\nflags\t\t: fpu sse sse2 fma avx avx2 avx512f avx512_vnni avx512_bf16\n\n";

constexpr const char* kAvx2 =
    "processor : 0\nmodel name : AMD Ryzen 7\ncpu MHz : 3000.0\nflags : sse sse2 fma avx avx2\n";

HostProfileOptions power(int threads) {
  HostProfileOptions o;
  o.threads = threads;
  o.idle_w = 6;
  o.max_w = 20;
  o.power_basis = "test";
  return o;
}

TEST(HostProfile, ParsesCpuinfoText) {
  auto cpu = parse_cpuinfo(kAvx512Vm, "fixture");
  ASSERT_TRUE(cpu.ok()) << cpu.error().message;
  EXPECT_EQ(cpu->logical_cpus, 2);
  EXPECT_EQ(cpu->model_name, "Intel(R) Xeon(R) Processor");
  EXPECT_DOUBLE_EQ(cpu->mhz, 2400.0);  // the highest clock
  EXPECT_TRUE(cpu->flags.count("avx512f"));
  EXPECT_FALSE(cpu->flags.count("amx_int8"));
}

TEST(HostProfile, PeakRatesFollowTheFlagsAndThreads) {
  auto cpu = parse_cpuinfo(kAvx512Vm, "fixture");
  ASSERT_TRUE(cpu.ok());
  auto p = host_cpu_profile(*cpu, power(1));
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->kind, DeviceKind::kCpu);
  EXPECT_DOUBLE_EQ(p->peak_flops.fp32, 1 * 2.4e9 * 64);          // avx512f: 64 FLOP/cycle
  EXPECT_DOUBLE_EQ(p->peak_flops.int8, 4 * p->peak_flops.fp32);  // VNNI
  EXPECT_DOUBLE_EQ(p->peak_flops.bf16, 2 * p->peak_flops.fp32);  // avx512_bf16
  EXPECT_DOUBLE_EQ(p->memory_bandwidth_bps, 10e9);
  EXPECT_DOUBLE_EQ(p->tdp_w, 20);
  EXPECT_DOUBLE_EQ(p->idle_w, 6);
  for (const char* f : {"peak_flops.fp32", "peak_flops.int8", "peak_flops.bf16", "memory_bandwidth_bps", "tdp_w",
                        "idle_w", "memory_bytes"})
    EXPECT_FALSE(p->source_of(f).empty()) << f;
  EXPECT_NE(p->source_of("memory_bandwidth_bps").find("GUESS"), std::string::npos);
  // threads = 0: every logical CPU.
  auto all = host_cpu_profile(*cpu, power(0));
  ASSERT_TRUE(all.ok());
  EXPECT_DOUBLE_EQ(all->peak_flops.fp32, 2 * p->peak_flops.fp32);

  auto avx2 = parse_cpuinfo(kAvx2, "fixture2");
  ASSERT_TRUE(avx2.ok());
  auto q = host_cpu_profile(*avx2, power(4));
  ASSERT_TRUE(q.ok());
  EXPECT_DOUBLE_EQ(q->peak_flops.fp32, 4 * 3.0e9 * 32);
  EXPECT_DOUBLE_EQ(q->peak_flops.int8, 2 * q->peak_flops.fp32);  // no VNNI
  EXPECT_DOUBLE_EQ(q->peak_flops.bf16, q->peak_flops.fp32);      // no AMX / BF16
}

TEST(HostProfile, RefusesBadTextAndPower) {
  auto none = parse_cpuinfo("vendor_id : x\n", "empty.txt");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, Errc::kParse);
  EXPECT_NE(none.error().message.find("empty.txt"), std::string::npos);
  auto bad_mhz = parse_cpuinfo("processor : 0\ncpu MHz : fast\nflags : sse\n", "bad.txt");
  ASSERT_FALSE(bad_mhz.ok());
  EXPECT_NE(bad_mhz.error().message.find("bad.txt:2"), std::string::npos);
  auto cpu = parse_cpuinfo(kAvx2, "f");
  ASSERT_TRUE(cpu.ok());
  auto o = power(1);
  o.idle_w = 30;  // above max
  EXPECT_FALSE(host_cpu_profile(*cpu, o).ok());
}

TEST(HostProfile, ReadsFilesWithMemTotal) {
  testing::TempDir dir;
  const auto ci = dir.write("cpuinfo", kAvx2);
  const auto mi = dir.write("meminfo", "MemTotal:       8000000 kB\nMemFree: 1 kB\n");
  auto p = read_host_cpu_profile(ci.string(), mi.string(), power(1));
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_DOUBLE_EQ(p->memory_bytes, 8000000.0 * 1024);
  auto missing = read_host_cpu_profile((dir.path() / "nope").string(), mi.string(), power(1));
  ASSERT_FALSE(missing.ok());
}

}  // namespace
}  // namespace jouleperf::hardware
