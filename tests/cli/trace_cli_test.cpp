// `jouleperf trace bin` with a model: B(I*, O*) from the architecture's weight and
// KV-cache bytes, checked against the memory arithmetic by hand.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace jouleperf {
namespace {

std::string run_stdout(const std::string& cmd) {
  std::string out;
  std::unique_ptr<FILE, int (*)(FILE*)> p(popen(cmd.c_str(), "r"), pclose);
  if (!p) return out;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), p.get())) > 0) out.append(buf.data(), n);
  return out;
}

TEST(TraceBinCli, BatchSizesFromABuiltInArchitecture) {
  const std::string cmd = std::string(JP_CLI_PATH) + " trace bin " + JP_SOURCE_DIR +
                          "/tests/workload/fixtures/azure_2023.csv --model Llama-3.1-8B --memory-budget 80GB "
                          "--max-batch 100000 --json";
  auto j = nlohmann::json::parse(run_stdout(cmd));
  ASSERT_FALSE(j["batch_sizes"].is_null());
  const auto& bs = j["batch_sizes"];
  // Llama-3.1-8B: 8,030,261,248 bf16 parameters; 131,072 KV bytes per token (f16).
  EXPECT_DOUBLE_EQ(bs["weights_bytes"].get<double>(), 2.0 * 8030261248.0);
  EXPECT_DOUBLE_EQ(bs["kv_bytes_per_token"].get<double>(), 131072.0);
  // Bin (32, 8): floor((80e9 - 16.06e9) / (131072 * 40)) = 12,196 sequences.
  const auto& edges_in = j["input_edges"];
  const auto& edges_out = j["output_edges"];
  ASSERT_EQ(edges_in[0], 32);
  ASSERT_EQ(edges_out[0], 8);
  const double expected = std::floor((80e9 - 2.0 * 8030261248.0) / (131072.0 * (32 + 8)));
  EXPECT_DOUBLE_EQ(bs["matrix"][0][0].get<double>(), expected);
}

TEST(TraceBinCli, AnUnknownModelIsAClearError) {
  const std::string cmd = std::string(JP_CLI_PATH) + " trace bin " + JP_SOURCE_DIR +
                          "/tests/workload/fixtures/azure_2023.csv --model No-Such-Model --memory-budget 80GB 2>&1";
  const std::string out = run_stdout(cmd);
  EXPECT_NE(out.find("No-Such-Model"), std::string::npos) << out;
}

}  // namespace
}  // namespace jouleperf
