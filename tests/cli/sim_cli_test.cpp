// `jouleperf hardware`, `simulate` and `optimize` end to end: what they print is labelled
// simulated, obeys the FLOPs-ideal bound, and bad names are usage errors naming the choices.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace jouleperf {
namespace {

struct Run {
  std::string out;
  int exit_code = -1;
};

Run run(const std::string& args) {
  Run r;
  const std::string cmd = std::string(JP_CLI_PATH) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int st = pclose(p);
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

TEST(HardwareCli, ListsProfilesAndShowsSources) {
  auto list = run("hardware list");
  ASSERT_EQ(list.exit_code, 0) << list.out;
  for (const char* name : {"a6000", "h100-sxm", "epyc-7763"}) EXPECT_NE(list.out.find(name), std::string::npos);
  auto show = run("hardware show h100-sxm --json");
  ASSERT_EQ(show.exit_code, 0) << show.out;
  auto j = nlohmann::json::parse(show.out);
  EXPECT_EQ(j["name"], "h100-sxm");
  EXPECT_FALSE(j.dump().find("source") == std::string::npos);
  auto bad = run("hardware show no-such-gpu");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.out.find("a6000"), std::string::npos) << "the error lists the known profiles: " << bad.out;
}

TEST(SimulateCli, ResultsAreLabelledSimulatedAndAboveTheFlopsIdeal) {
  auto r =
      run("simulate --hardware a6000 --stack vllm --model Llama-3.1-8B --workload azure-code-2023 -n 100 --poisson 2 "
          "--json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["simulated"], true);
  EXPECT_EQ(j["completed"], 100);
  EXPECT_GT(j["energy_j"].get<double>(), j["flops_ideal_energy_j"].get<double>());
  // Without --json the terminal says it is a simulation.
  auto text =
      run("simulate --hardware a6000 --stack vllm --model Llama-3.1-8B --workload azure-code-2023 -n 50 "
          "--poisson 2");
  ASSERT_EQ(text.exit_code, 0) << text.out;
  EXPECT_NE(text.out.find("SIMULATED"), std::string::npos) << text.out;
}

TEST(SimulateCli, EagerUsesMoreEnergyThanVllmOnTheSameRequests) {
  auto energy = [](const char* stack) {
    auto r = run(std::string("simulate --hardware a6000 --stack ") + stack +
                 " --model Llama-3.1-8B --batch 1 --input 512 --output 128 --json");
    EXPECT_EQ(r.exit_code, 0) << r.out;
    return nlohmann::json::parse(r.out)["energy_j"].get<double>();
  };
  EXPECT_GT(energy("hf-eager"), energy("vllm"));
}

TEST(SimulateCli, UnknownStackIsAUsageErrorNamingTheStacks) {
  auto r = run("simulate --hardware a6000 --stack nope --workload azure-code-2023 -n 10 --poisson 1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("vllm"), std::string::npos) << r.out;
}

TEST(OptimizeCli, PicksAFeasibleConfigurationWithLessEnergyThanTheBaseline) {
  auto r =
      run("optimize --workload azure-code-2023 -n 200 --poisson 2 --model Llama-3.1-8B --hardware a6000 h100-sxm "
          "--devices 1 --tp 1 --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j.contains("best")) << r.out;
  EXPECT_EQ(j["best"]["feasible"], true);
  EXPECT_LT(j["best"]["energy_j"].get<double>(), j["baseline"]["energy_j"].get<double>());
}

// --phase-clocks (issue 19): under a time-to-first-token SLO the prefill keeps its clock
// and the decode runs slower, for less energy than the unlocked baseline; the JSON says
// each phase's clock. SIMULATED.
TEST(OptimizeCli, PhaseClocksKeepThePrefillClockAndLowerTheDecodeClock) {
  auto r =
      run("optimize --workload azure-conv-2023 -n 300 --poisson 2 --model Llama-3.1-8B --hardware h100-sxm --devices 1 "
          "--tp 1 --max-batch 256 --stacks vllm --precision bf16 --decoding greedy --clock-ratios 1,0.5 --phase-clocks "
          "--slo-ttft 0.32 --baseline stack=vllm,max-batch=256 --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  const auto& clocks = j.at("best").at("config").at("clocks");
  EXPECT_EQ(clocks.at("prefill_clock_ratio"), 1.0) << clocks.dump();
  EXPECT_EQ(clocks.at("decode_clock_ratio"), 0.5) << clocks.dump();
  EXPECT_LT(j["best"]["energy_j"].get<double>(), 0.9 * j["baseline"]["energy_j"].get<double>());
  EXPECT_EQ(j["best"]["feasible"], true);
}

}  // namespace
}  // namespace jouleperf
