// Issue 12, numbers from the command line and files: NaN, infinities, empty values,
// negative counts, absurd sizes and grids, header-only traces, zero-token requests and
// duplicate YAML keys, each run through the built `jouleperf` as a user would.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include "jouleperf/study/store.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf {
namespace {

class HostileNumbers : public ::testing::Test {
 protected:
  // Runs `jouleperf ARGS` (with `env` prefixed, e.g. "JOULEPERF_COUNT=-1") and returns its
  // exit code; stdout and stderr together land in output_.
  int run(const std::string& args, const std::string& env = "") {
    const std::string out = (dir_.path() / "out.txt").string();
    const std::string cmd = (env.empty() ? "" : "env " + env + " ") + std::string(JP_CLI_PATH) + " " + args + " > " +
                            out + " 2>&1 < /dev/null";
    const int rc = std::system(cmd.c_str());
    std::ifstream f(out);
    output_.assign(std::istreambuf_iterator<char>(f), {});
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }

  std::string first_line() const { return output_.substr(0, output_.find('\n')); }

  // A usage error (exit 2) whose first line names `flag`.
  void expect_usage(const std::string& args, const std::string& flag, const std::string& env = "") {
    SCOPED_TRACE(env + " jouleperf " + args);
    EXPECT_EQ(run(args, env), 2) << output_;
    EXPECT_NE(first_line().find(flag), std::string::npos) << output_;
  }

  std::string small_trace() {
    return dir_
        .write("small.csv",
               "TIMESTAMP,ContextTokens,GeneratedTokens\n"
               "2023-11-16 18:15:46.6805900,32,8\n"
               "2023-11-16 18:15:50.0000000,64,8\n")
        .string();
  }

  // A results store with one measured configuration (so `estimate` gets as far as the trace).
  std::string store() {
    const std::string path = (dir_.path() / "study.db").string();
    auto s = study::Store::open(path);
    EXPECT_TRUE(s.ok()) << s.error().to_string();
    study::Config base;
    base.name = "baseline";
    base.engine = "sim";
    base.model = "Llama-3.2-1B";
    base.weight_type = "bf16";
    base.baseline = true;
    EXPECT_TRUE(s->put_config(base).ok());
    study::CellResult c;
    c.key = {"baseline", 32, 8, 1};
    c.status = study::CellStatus::kDone;
    study::Repetition r;
    r.energy_j = 10;
    r.duration_s = 1.0;
    c.reps = {r, r};
    c.energy_source = "cpu-time-model";
    c.estimated = true;
    EXPECT_TRUE(s->put_cell(c).ok());
    return path;
  }

  testing::TempDir dir_;
  std::string output_;
};

TEST_F(HostileNumbers, NanAndInfinityAreRejectedForEveryFloatingOption) {
  expect_usage("burn --seconds nan", "--seconds");
  expect_usage("burn --seconds inf", "--seconds");
  expect_usage("burn --gflop -inf", "--gflop");
  expect_usage("measure --idle-power nan -- true", "--idle-power");
  expect_usage("measure --hz nan -- true", "--hz");
  expect_usage("sensors --window nan", "--window");
  expect_usage("trace stats " + small_trace() + " --bucket inf", "--bucket");
  expect_usage("trace stats " + small_trace() + " --from nan", "--from");
  expect_usage("optimize --slo-ttft nan", "--slo-ttft");
  expect_usage("simulate --hardware h100-sxm --poisson nan", "--poisson");
  expect_usage("estimate --store x.db --pue NaN", "--pue");
  // Spelled as strtod spells them, too.
  expect_usage("burn --seconds infinity", "--seconds");
  expect_usage("burn --seconds 1e400", "--seconds");
}

TEST_F(HostileNumbers, AnEmptyValueIsAnErrorNotZero) {
  expect_usage("estimate --store x.db --carbon-intensity ''", "--carbon-intensity");
  expect_usage("trace stats " + small_trace() + " --bucket ''", "--bucket");
  expect_usage("trace synth --workload azure-code-2023 -n ''", "--count");
}

TEST_F(HostileNumbers, PhysicallyAbsurdValuesAreRejectedWithTheirRange) {
  expect_usage("measure --idle-power 1e308 -- true", "--idle-power");
  EXPECT_NE(output_.find("100000"), std::string::npos) << "the message states the ceiling: " << output_;
  expect_usage("measure --idle-power -5 -- true", "--idle-power");
  expect_usage("optimize --slo-ttft -1", "--slo-ttft");
  expect_usage("optimize --slo-ttft 0", "--slo-ttft");
  expect_usage("optimize --slo-e2e -3", "--slo-e2e");
  expect_usage("estimate --store x.db --carbon-intensity -1", "--carbon-intensity");
  expect_usage("trace stats " + small_trace() + " --bucket -1", "--bucket");
}

TEST_F(HostileNumbers, NegativeCountsAreUsageErrors) {
  expect_usage("trace synth --workload azure-code-2023 -n -1", "--count");
  expect_usage("simulate --hardware h100-sxm --workload azure-code-2023 -n -1", "--count");
  expect_usage("optimize --workload azure-code-2023 -n -1", "--count");
  expect_usage("trace bin " + small_trace() + " --max-batch -1", "--max-batch");
  expect_usage("optimize --max-batch 4,-1", "--max-batch");
}

TEST_F(HostileNumbers, EnvironmentMirrorsGoThroughTheSameChecks) {
  expect_usage("trace synth --workload azure-code-2023", "--count", "JOULEPERF_COUNT=-1");
  EXPECT_NE(output_.find("JOULEPERF_COUNT"), std::string::npos) << output_;
  expect_usage("burn", "--seconds", "JOULEPERF_SECONDS=nan");
  expect_usage("sensors", "--window", "JOULEPERF_WINDOW=inf");
}

TEST_F(HostileNumbers, RequestCountsAreCappedBeforeAnythingIsAllocated) {
  expect_usage("trace synth --workload azure-code-2023 -n 1000000000000", "--count");
  EXPECT_NE(output_.find("10000000"), std::string::npos) << "the message states the limit: " << output_;
  expect_usage("simulate --hardware h100-sxm --workload azure-code-2023 -n 1000000000000", "--count");
  expect_usage("trace synth --workload azure-code-2023", "--count", "JOULEPERF_COUNT=1000000000000");
  // A count within the limit still works.
  EXPECT_EQ(run("trace synth --workload azure-code-2023 -n 5"), 0) << output_;
}

TEST_F(HostileNumbers, AHeaderOnlyTraceIsNoRequestsNotZeroEnergy) {
  const std::string header_only = dir_.write("header_only.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\n").string();
  EXPECT_EQ(run("trace stats " + header_only), 1) << output_;
  EXPECT_NE(output_.find("header_only.csv"), std::string::npos) << output_;
  EXPECT_NE(output_.find("no requests"), std::string::npos) << output_;
  EXPECT_EQ(run("estimate --store " + store() + " --trace " + header_only), 1) << output_;
  EXPECT_NE(output_.find("header_only.csv"), std::string::npos) << output_;
  EXPECT_NE(output_.find("no requests"), std::string::npos) << output_;
  EXPECT_EQ(output_.find(" Wh"), std::string::npos) << output_;
}

TEST_F(HostileNumbers, ZeroTokenRequestsAreExcludedAndCounted) {
  const std::string trace = dir_.write("zeros.csv",
                                       "TIMESTAMP,ContextTokens,GeneratedTokens\n"
                                       "2023-11-16 18:15:46.6805900,32,8\n"
                                       "2023-11-16 18:15:47.0000000,0,8\n"
                                       "2023-11-16 18:15:48.0000000,64,0\n"
                                       "2023-11-16 18:15:49.0000000,100,16\n")
                                .string();
  ASSERT_EQ(run("trace bin " + trace + " --json"), 0) << output_;
  EXPECT_NE(output_.find("\"zero_token_excluded\": 2"), std::string::npos) << output_;
  EXPECT_NE(output_.find("\"requests\": 2"), std::string::npos) << output_;
  ASSERT_EQ(run("trace stats " + trace), 0) << output_;
  EXPECT_NE(output_.find("zero-token excluded 2"), std::string::npos) << output_;
  // estimate charges the two real requests only, and says so.
  ASSERT_EQ(run("estimate --store " + store() + " --trace " + trace + " --out-of-range clamp"), 0) << output_;
  EXPECT_NE(output_.find("2 requests in"), std::string::npos) << output_;
  EXPECT_NE(output_.find("2 requests with zero input or output tokens excluded"), std::string::npos) << output_;
  // BurstGPT marks a failed request with Response tokens = 0: counted as failed, not zero-token.
  const std::string burst = dir_.write("burst.csv",
                                       "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n"
                                       "1,ChatGPT,10,20,30,Conversation log\n"
                                       "2,ChatGPT,10,0,10,Conversation log\n"
                                       "3,ChatGPT,0,5,5,Conversation log\n")
                                .string();
  ASSERT_EQ(run("trace stats " + burst), 0) << output_;
  EXPECT_NE(output_.find("failed excluded 1"), std::string::npos) << output_;
  EXPECT_NE(output_.find("zero-token excluded 1"), std::string::npos) << output_;
}

TEST_F(HostileNumbers, ADuplicateStudyKeyNamesFileAndLine) {
  const std::string yaml = dir_.write("dup.yaml",
                                      "configs:\n"
                                      "  - {name: a, engine: sim}\n"
                                      "inputs: [32]\n"
                                      "outputs: [8]\n"
                                      "batches: [1]\n"
                                      "inputs: [64]\n")
                               .string();
  EXPECT_NE(run("sweep " + yaml + " --store " + (dir_.path() / "s.db").string()), 0) << output_;
  EXPECT_NE(output_.find("dup.yaml:6"), std::string::npos) << output_;
  EXPECT_NE(output_.find("inputs"), std::string::npos) << output_;
  EXPECT_NE(output_.find("twice"), std::string::npos) << output_;
}

// 1000 x 1000 x 1000 cells of one config.
std::string billion_cell_study() {
  std::ostringstream axis;
  axis << "[";
  for (int i = 1; i <= 1000; ++i) axis << (i > 1 ? "," : "") << i;
  axis << "]";
  return "configs:\n  - {name: a, engine: sim}\ninputs: " + axis.str() + "\noutputs: " + axis.str() +
         "\nbatches: " + axis.str() + "\n";
}

TEST_F(HostileNumbers, ABillionCellStudyIsRefusedBeforeRunning) {
  const std::string yaml = dir_.write("huge.yaml", billion_cell_study()).string();
  const auto out = dir_.path() / "out";
  EXPECT_NE(run("study " + yaml + " --out " + out.string()), 0) << output_;
  EXPECT_NE(output_.find("1000000000 cells"), std::string::npos) << output_;
  EXPECT_NE(output_.find("--max-cells"), std::string::npos) << output_;
  EXPECT_FALSE(std::filesystem::exists(out / "results.db")) << "refused before anything ran";
  const auto store = dir_.path() / "s.db";
  EXPECT_EQ(run("sweep " + yaml + " --store " + store.string()), 2) << output_;
  EXPECT_NE(output_.find("--max-cells"), std::string::npos) << output_;
  EXPECT_FALSE(std::filesystem::exists(store));
  // The flag grid of a sweep, too, and an explicit lower limit.
  EXPECT_EQ(run("sweep --engine sim -m Llama-3.2-1B -I 1..1024 -O 1..1024 --max-cells 10 --store " + store.string()), 2)
      << output_;
  EXPECT_NE(output_.find("121 cells"), std::string::npos) << output_;
  EXPECT_FALSE(std::filesystem::exists(store));
  expect_usage("sweep --max-cells -1 --store " + store.string(), "--max-cells");
}

TEST_F(HostileNumbers, AnOptimizeGridOverTheLimitIsRefused) {
  EXPECT_EQ(run("optimize --workload azure-code-2023 -n 10 --devices 1,2,4,8 --max-batch 1,2,4,8 --max-cells 5"), 2)
      << output_;
  EXPECT_NE(output_.find("--max-cells"), std::string::npos) << output_;
}

}  // namespace
}  // namespace jouleperf
