// The study pipelines as library calls (study/study_run.hpp, study/sweep_spec.hpp,
// study/documents.hpp): a simulated study file end to end reports through StudyProgress
// and returns what the command renders; a sweep from plain settings; the documents'
// tables and JSON come from the same result.
#include "jouleperf/study/study_run.hpp"

#include <gtest/gtest.h>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/estimate/ideal_device.hpp"
#include "jouleperf/study/documents.hpp"
#include "jouleperf/study/sweep_spec.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf::study {
namespace {

constexpr const char* kStudy =
    "name: lib\nconfigs:\n  - name: eager\n    engine: sim\n    model: Llama-3.2-1B\n    baseline: true\n"
    "    settings: {hardware: h100-sxm, stack: hf-eager}\n  - name: vllm\n    engine: sim\n    model: Llama-3.2-1B\n"
    "    settings: {hardware: h100-sxm, stack: vllm}\n"
    "inputs: [128, 1024]\noutputs: [32, 256]\nbatches: [1, 8]\nwarmup: 0\nrepetitions: 1\n";

struct Recorder final : StudyProgress {
  std::size_t cells = 0, logs = 0, steps = 0;
  void on_cell_stored(const CellResult&, const SweepState&) override { ++cells; }
  void on_step(int, int, const std::string&) override { ++steps; }
  void on_log(const std::string&) override { ++logs; }
};

TEST(StudyRun, ASimulatedStudyFileRunsThroughTheLibraryAndResumes) {
  testing::TempDir dir;
  auto plan = load_file_study(dir.write("s.yaml", kStudy).string(), default_max_cells());
  ASSERT_TRUE(plan) << plan.error().to_string();
  EXPECT_FALSE(needs_sampler(*plan));
  FileStudyOptions o;
  o.out = (dir.path() / "out").string();
  auto store = open_output_store(o.out, false);
  ASSERT_TRUE(store) << store.error().to_string();
  SteadyClock clock;
  Recorder progress;
  auto r = run_file_study(*plan, o, *store, nullptr, clock, progress);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(progress.cells, 16u);
  EXPECT_EQ(r->sweep.measured, 16u);
  ASSERT_EQ(r->estimates.size(), 2u);
  EXPECT_NE(r->sensor_note.find("simulated"), std::string::npos);

  const auto doc = study_document(*r, "report.html");
  ASSERT_EQ(doc.tables.size(), 1u);
  EXPECT_EQ(doc.tables[0].rows.size(), 4u);  // 2 workloads x 2 configs
  EXPECT_EQ(doc.json.at("estimates").size(), 2u);
  EXPECT_EQ(doc.json.at("report"), "report.html");

  Recorder again;
  auto resumed = run_file_study(*plan, o, *store, nullptr, clock, again);
  ASSERT_TRUE(resumed) << resumed.error().to_string();
  EXPECT_EQ(resumed->sweep.resumed, 16u);
  EXPECT_EQ(again.cells, 0u);
}

// The store's fidelity comparison is the latest run's: a run without a measurements file
// removes the one an earlier run stored (and one named after its file by an older store),
// so the report shows no stale Fidelity section.
TEST(StudyRun, ARunWithoutMeasurementsRemovesAnEarlierRunsFidelity) {
  testing::TempDir dir;
  auto plan = load_file_study(dir.write("s.yaml", kStudy).string(), default_max_cells());
  ASSERT_TRUE(plan) << plan.error().to_string();
  FileStudyOptions o;
  o.out = (dir.path() / "out").string();
  o.fidelity = {{"rows", nlohmann::json::array()}, {"errors", nlohmann::json::array()}};
  auto store = open_output_store(o.out, false);
  ASSERT_TRUE(store) << store.error().to_string();
  ASSERT_TRUE(store->put_artifact(Artifact{"fidelity", "mlenergy.csv", {{"v", 1}}, 0.0}));  // an older store's
  SteadyClock clock;
  Recorder progress;
  ASSERT_TRUE(run_file_study(*plan, o, *store, nullptr, clock, progress));
  auto with = store->artifacts("fidelity");
  ASSERT_TRUE(with);
  ASSERT_EQ(with->size(), 1u);  // this run's only
  EXPECT_EQ((*with)[0].name, "study");
  EXPECT_EQ((*with)[0].body, o.fidelity);

  o.fidelity = nullptr;
  auto again = run_file_study(*plan, o, *store, nullptr, clock, progress);
  ASSERT_TRUE(again) << again.error().to_string();
  auto without = store->artifacts("fidelity");
  ASSERT_TRUE(without);
  EXPECT_TRUE(without->empty());
  EXPECT_EQ(store->artifacts("estimate")->size(), 2u);  // the rest of the run's documents stay
}

TEST(StudyRun, ASweepFromPlainSettingsReportsRowsAndRefusesBadFlags) {
  testing::TempDir dir;
  SweepSpec spec;
  spec.engine = "sim";
  spec.model = "Llama-3.2-1B";
  spec.settings = {"hardware=h100-sxm"};
  spec.input = "128,512";
  spec.output = "16";
  spec.reps = 1;
  spec.warmup = 0;
  auto plan = plan_sweep(spec);
  ASSERT_TRUE(plan) << plan.error().to_string();
  EXPECT_EQ(plan->cells.size(), 2u);
  EXPECT_FALSE(plan->measured);
  const std::string path = (dir.path() / "s.db").string();
  auto store = Store::open(path);
  ASSERT_TRUE(store);
  SteadyClock clock;
  Recorder progress;
  auto r = run_sweep_plan(*plan, spec, *store, path, nullptr, clock, &progress);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->summary.measured, 2u);
  auto cells = store->cells();
  ASSERT_TRUE(cells);
  auto schema = sweep_cells_schema();
  for (const auto& c : *cells) schema.rows.push_back(sweep_cell_row(c));
  const auto j = sweep_json(*r, schema);
  EXPECT_EQ(j.at("cells").size(), 2u);
  EXPECT_EQ(j.at("cells")[0].at("status"), "done");
  EXPECT_NE(sweep_summary_lines(*r).front().find("2 measured"), std::string::npos);

  SweepSpec bad = spec;
  bad.settings = {"novalue"};
  EXPECT_EQ(plan_sweep(bad).error().code, Errc::kInvalidArgument);
  SweepSpec shard = spec;
  shard.shard = "2/2";
  EXPECT_EQ(plan_sweep(shard).error().code, Errc::kInvalidArgument);
}

TEST(StudyRun, TheFlopsIdealDeviceIsTheHardwareProfileOrTheHostCpu) {
  hardware::HardwareRegistry registry;
  Config sim;
  sim.engine = "sim";
  sim.weight_type = "bf16";
  sim.settings = {{"hardware", "h100-sxm"}};
  estimate::IdealDeviceOptions no_cpu;
  no_cpu.host_power_error = "no CPU power here";
  auto gpu = estimate::flops_ideal_device(sim, no_cpu, registry);
  ASSERT_TRUE(gpu) << gpu.error().to_string();
  EXPECT_GT(gpu->tdp_w, 100.0);
  Config unknown = sim;
  unknown.settings = {{"hardware", "no-such-gpu"}};
  EXPECT_NE(estimate::flops_ideal_device(unknown, no_cpu, registry).error().message.find("no-such-gpu"),
            std::string::npos);
  Config cpu;
  cpu.weight_type = "f32";
  EXPECT_NE(estimate::flops_ideal_device(cpu, no_cpu, registry).error().message.find("no CPU power here"),
            std::string::npos);
  const auto inputs = estimate::flops_ideal_inputs({cpu}, no_cpu);
  ASSERT_EQ(inputs.size(), 1u);
  EXPECT_FALSE(inputs[0].device);
  EXPECT_NE(inputs[0].ideal_note.find("no CPU power here"), std::string::npos);
}

}  // namespace
}  // namespace jouleperf::study
