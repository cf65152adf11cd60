// `jouleperf fidelity` and `jouleperf calibrate --measurements` end to end: the table and
// JSON, one error naming file, line and field for bad input (nothing written), and the
// built-in vllm stack against the ML.ENERGY file (skipped without ../shared).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "support/temp_dir.hpp"

namespace jouleperf {
namespace {

constexpr const char* kHeader =
    "gpu,model,num_gpus,max_num_seqs,avg_batch_size,avg_output_tokens,avg_power_w,j_per_output_token,"
    "median_itl_ms,output_tokens_per_s\n";

class FidelityCli : public ::testing::Test {
 protected:
  int run(const std::string& args) {
    const std::string cmd =
        std::string(JP_CLI_PATH) + " " + args + " > " + (dir_.path() / "out.txt").string() + " 2>&1";
    const int rc = std::system(cmd.c_str());
    std::ifstream f(dir_.path() / "out.txt");
    output_.assign(std::istreambuf_iterator<char>(f), {});
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }
  std::string write(const std::string& name, const std::string& text) { return dir_.write(name, text).string(); }
  // Four runs in the shape of the ML.ENERGY rows.
  std::string good() {
    return write("m.csv", std::string("# test rows\n") + kHeader +
                              "h100-sxm,Llama-3.1-8B,1,8,7.98,388.7,486.4,0.4548,7.32,1069.6\n"
                              "h100-sxm,Llama-3.1-8B,1,64,63.92,395.5,610.3,0.1186,11.5,5147.2\n"
                              "h100-sxm,Llama-3.1-8B,1,128,127.62,404.6,669.2,0.0951,16.48,7036.5\n"
                              "h100-sxm,Llama-3.1-8B,1,512,510.87,396.7,688.3,0.0702,47.41,9805.6\n");
  }

  testing::TempDir dir_;
  std::string output_;
};

TEST_F(FidelityCli, PrintsEveryRowAndTheErrorSummary) {
  ASSERT_EQ(run("fidelity --measurements " + good()), 0) << output_;
  EXPECT_NE(output_.find("median_abs_err_pct"), std::string::npos) << output_;
  EXPECT_NE(output_.find("assumed 400 tokens"), std::string::npos) << output_;
  EXPECT_NE(output_.find("SIMULATED"), std::string::npos);
}

TEST_F(FidelityCli, JsonHasOneRowPerMeasurement) {
  ASSERT_EQ(run("fidelity --json --assume-input-tokens 300 --measurements " + good()), 0) << output_;
  const auto doc = nlohmann::json::parse(output_);
  ASSERT_EQ(doc.at("rows").size(), 4u);
  EXPECT_EQ(doc.at("rows").at(0).at("line").get<int>(), 3);
  EXPECT_EQ(doc.at("rows").at(0).at("input_tokens").get<double>(), 300.0);
  EXPECT_EQ(doc.at("errors").size(), 4u);  // J/token, power, ITL, tokens/s
  EXPECT_TRUE(doc.at("simulated").get<bool>());
}

TEST_F(FidelityCli, BadInputIsOneErrorNamingFileLineAndField) {
  struct Case {
    std::string text, where;
  };
  const Case cases[] = {
      {"gpu,model,num_gpus,avg_batch_size,avg_output_tokens,avg_power_w\nh100-sxm,Llama-3.1-8B,1,8,400,500\n",
       ":1: field 'max_num_seqs'"},
      {std::string(kHeader) + "h100-sxm,Llama-3.1-8B,1,8,7.98,388.7,0,0.45,7.32,1069.6\n", ":2: field 'avg_power_w'"},
      {std::string(kHeader) + "z9000,Llama-3.1-8B,1,8,7.98,388.7,486,0.45,7.32,1069.6\n", ":2: field 'gpu'"},
      {std::string(kHeader) + "h100-sxm,Llama-0-8B,1,8,7.98,388.7,486,0.45,7.32,1069.6\n", ":2: field 'model'"},
      {std::string(kHeader) + "h100-sxm,Llama-3.1-8B,1,4096,4096,4000,486,0.45,7.32,1069.6\n",
       ":2: field 'avg_batch_size'"},
  };
  for (const auto& c : cases) {
    const std::string file = write("bad.csv", c.text);
    EXPECT_NE(run("fidelity --measurements " + file), 0) << output_;
    EXPECT_NE(output_.find(file + c.where), std::string::npos) << output_;
    const std::string out = (dir_.path() / "fit.json").string();
    EXPECT_NE(run("calibrate --measurements " + file + " -o " + out), 0) << output_;
    EXPECT_NE(output_.find(file + c.where), std::string::npos) << output_;
    EXPECT_FALSE(std::filesystem::exists(out));
  }
}

TEST_F(FidelityCli, CalibrateWritesAStackFileThatFidelityAndSimulateLoad) {
  const std::string out = (dir_.path() / "fit.json").string();
  ASSERT_EQ(run("calibrate --measurements " + good() + " --fit-evaluations 600 -o " + out), 0) << output_;
  EXPECT_NE(output_.find("Leave-one-out error"), std::string::npos) << output_;
  std::ifstream f(out);
  const auto doc = nlohmann::json::parse(f);
  EXPECT_EQ(doc.at("stack").at("based_on"), "vllm");
  EXPECT_EQ(doc.at("stack").at("name"), "vllm-calibrated");
  EXPECT_EQ(doc.at("calibration").at("figures").size(), 6u);
  EXPECT_EQ(doc.at("calibration").at("leave_one_out").size(), 4u);
  EXPECT_TRUE(doc.at("power").contains("compute_weight"));
  ASSERT_EQ(run("fidelity --measurements " + good() + " --stack-file " + out), 0) << output_;
  EXPECT_NE(output_.find("vllm-calibrated"), std::string::npos) << output_;
  ASSERT_EQ(run("simulate --hardware h100-sxm --stack-file " + out + " --poisson 5 --count 20 --input 128 --output 32"),
            0)
      << output_;
}

TEST_F(FidelityCli, EitherMeasurementsOrAStore) {
  EXPECT_EQ(run("calibrate"), 2) << output_;
  EXPECT_NE(output_.find("--measurements"), std::string::npos) << output_;
  EXPECT_EQ(run("calibrate --measurements " + good() + " --store x.db --config c"), 2) << output_;
}

TEST_F(FidelityCli, BuiltInVllmMeetsTheMlEnergyFile) {
  const std::string path = std::string(JP_SHARED_DATA_DIR) + "/mlenergy_v3_llama-3.1-8b_h100.csv";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "no " << path;
  ASSERT_EQ(run("fidelity --json --measurements " + path), 0) << output_;
  const auto doc = nlohmann::json::parse(output_);
  for (const auto& e : doc.at("errors")) {
    const std::string fig = e.at("figure");
    const double median = e.at("median_abs_err_pct");
    if (fig == "j_per_output_token" || fig == "power_w") {
      EXPECT_LE(median, 10.0) << fig;
    }
    if (fig == "median_itl") {
      EXPECT_LE(median, 15.0) << fig;
    }
  }
}

// A study file that names a measurements file (relative to the study file): the study
// stores the comparison and the report shows it in its own section.
TEST_F(FidelityCli, AStudyNamingAMeasurementsFileGetsAFidelitySection) {
  good();
  const std::string study = write("s.yaml",
                                  "configs:\n  - name: sim\n    engine: sim\n    model: Llama-3.2-1B\n"
                                  "    settings: {hardware: h100-sxm}\n"
                                  "inputs: [32]\noutputs: [8]\nbatches: [2]\nmeasurements: m.csv\n");
  const auto out = dir_.path() / "out";
  ASSERT_EQ(run("study " + study + " --out " + out.string() + " --no-progress-bar"), 0) << output_;
  std::ifstream f(out / "report.html");
  const std::string html(std::istreambuf_iterator<char>(f), {});
  EXPECT_NE(html.find("id=\"fidelity\""), std::string::npos);
  EXPECT_NE(html.find("Fidelity (SIMULATED against measured)"), std::string::npos);
  EXPECT_NE(html.find("median_abs_err_pct"), std::string::npos);
  EXPECT_NE(html.find(">h100-sxm<"), std::string::npos);
}

TEST_F(FidelityCli, AStudyWithABadMeasurementsFileStopsBeforeWritingAnything) {
  const std::string bad =
      write("bad.csv", std::string(kHeader) + "h100-sxm,Llama-3.1-8B,1,8,7.98,388.7,-1,0.45,7.3,1069\n");
  const std::string study = write("s.yaml",
                                  "configs:\n  - name: sim\n    engine: sim\n    model: Llama-3.2-1B\n"
                                  "    settings: {hardware: h100-sxm}\n"
                                  "inputs: [32]\noutputs: [8]\nbatches: [2]\n");
  const auto out = dir_.path() / "out";
  EXPECT_EQ(run("study " + study + " --measurements " + bad + " --out " + out.string() + " --no-progress-bar"), 2)
      << output_;
  EXPECT_NE(output_.find("bad.csv:2"), std::string::npos) << output_;
  EXPECT_NE(output_.find("avg_power_w"), std::string::npos) << output_;
  EXPECT_FALSE(std::filesystem::exists(out));
}

}  // namespace
}  // namespace jouleperf
