// jouleperf study [FILE]: the whole study end to end (study/study_run.hpp). With no file,
// the main job (what `make demo` runs); with a study file, its sweep, the estimates on the
// embedded workloads and the report. Flags -> options -> one library call -> the report
// and the document.
#include <filesystem>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "jouleperf/core/atomic_file.hpp"
#include "jouleperf/report/html.hpp"
#include "jouleperf/report/report_data.hpp"
#include "jouleperf/report/summary.hpp"
#include "jouleperf/study/config_check.hpp"
#include "jouleperf/study/documents.hpp"
#include "jouleperf/study/study_run.hpp"
#include "output_flags.hpp"
#include "sensor_flags.hpp"
#include "sim_flags.hpp"
#include "sweep_progress.hpp"

namespace jouleperf::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kCommand = "study";

struct StudyFlags {
  std::string file;
  study::MainJobOptions job;
  SensorFlags sensors;
  ProgressFlags progress;
  OutputFlags out;
  std::uint64_t max_cells = study::default_max_cells();
  std::string measurements;  // --measurements: overrides a study file's `measurements`
};

int failed(const Error& e) { return fail(kCommand, e, /*parse_is_usage=*/true); }

// A measurements file compared with the simulator (docs/fidelity.md), before anything runs
// so that a bad file stops the study at once. A null document without a file.
Result<nlohmann::json> fidelity_of(const std::string& measurements) {
  if (measurements.empty()) return nlohmann::json();
  ServingFlags f;
  f.measurements = measurements;
  auto check = check_fidelity(f);
  if (!check) return make_error(check.error().code, "measurements: " + check.error().message);
  return check->document;
}

struct WrittenReport {
  std::string path;         // absolute
  report::Summary summary;  // its first screen: what ran, the headline, the findings
};

// Writes the HTML report of `store` to `path`.
Result<WrittenReport> write_report(const study::Store& store, const fs::path& path) {
  auto data = report::load_report_data(store);
  if (!data) return data.error();
  auto html = report::html_report(*data);
  if (!html) return html.error();
  auto summary = report::summarize(*data);
  if (!summary) return summary.error();
  if (auto st = write_file_atomic(path.string(), *html); !st) return st.error();
  std::error_code ec;
  return WrittenReport{fs::absolute(path, ec).string(), std::move(*summary)};
}

// The report, then the document; the terminal ends with the report's first screen in
// words (what ran, the findings) and the report's path.
int finish(const StudyFlags& f, table::Format format, const study::Store& store,
           const Result<study::StudyRunResult>& r) {
  if (!r) return failed(r.error());
  auto written = write_report(store, fs::path(f.job.out) / "report.html");
  if (!written) return failed(make_error(written.error().code, "report: " + written.error().message));
  auto doc = study::study_document(*r, written->path);
  auto lines = report::summary_lines(written->summary);
  const auto at = doc.footer.empty() ? doc.footer.end() : doc.footer.end() - 1;  // before "report: PATH"
  doc.footer.insert(at, lines.begin(), lines.end());
  doc.json["findings"] = written->summary.findings;
  doc.json["energies"] = report::kinds_text(written->summary.what);
  return emit(f.out, format, doc, kCommand);
}

int run_main_job(const StudyFlags& f, table::Format format) {
  study::MainJobOptions o = f.job;
  o.cpu_idle_w = f.sensors.cpu_idle_w;
  o.cpu_max_w = f.sensors.cpu_max_w;
  auto fidelity = fidelity_of(f.measurements);
  if (!fidelity) return failed(fidelity.error());
  o.fidelity = *fidelity;
  auto store = study::open_output_store(o.out, /*models=*/true);
  if (!store) return failed(store.error());
  SteadyClock clock;
  auto sampler = start_sampler(f.sensors, clock, kCommand);
  if (!sampler) return kExitFailure;
  Progress progress(f.progress.draw_bar());
  return finish(f, format, *store, study::run_main_job(o, *store, *sampler, clock, progress));
}

int run_file_study(const StudyFlags& f, table::Format format) {
  auto plan = study::load_file_study(f.file, f.max_cells);
  if (!plan) return failed(plan.error());
  for (const auto& c : plan->configs)
    for (const auto& note : study::config_notes(c)) std::cerr << "jouleperf study: note: " << note << "\n";
  study::FileStudyOptions o{f.job.out, f.job.idle_s, f.sensors.cpu_idle_w, f.sensors.cpu_max_w, {}};
  auto fidelity = fidelity_of(f.measurements.empty() ? plan->measurements : f.measurements);
  if (!fidelity) return failed(fidelity.error());
  o.fidelity = *fidelity;
  auto store = study::open_output_store(o.out, /*models=*/false);
  if (!store) return failed(store.error());
  SteadyClock clock;
  std::unique_ptr<Sampler> sampler;
  if (study::needs_sampler(*plan)) {
    sampler = start_sampler(f.sensors, clock, kCommand);
    if (!sampler) return kExitFailure;
  }
  Progress progress(f.progress.draw_bar());
  return finish(f, format, *store, study::run_file_study(*plan, o, *store, sampler.get(), clock, progress));
}

int run(const StudyFlags& f) {
  auto format = output_format(f.out, kCommand);
  if (!format) return failed(format.error());
  return f.file.empty() ? run_main_job(f, *format) : run_file_study(f, *format);
}

void add_main_job_flags(CLI::App* cmd, study::MainJobOptions& o) {
  cmd->add_option("--max-batch", o.max_batch, "batch size of the batched configurations")->capture_default_str();
  cmd->add_option("--reps", o.reps, "measured batches per cell (and measured passes per validation)")
      ->capture_default_str();
  cmd->add_option("--warmup", o.warmup, "warm-up batches per cell (and per bin of a validation)")
      ->capture_default_str();
  cmd->add_option("--until-ci", o.until_ci_pct,
                  "main job: repetitions are added to a cell until the half-width of its 95 % interval is below "
                  "this percentage of its mean, or --max-reps (0, or --reps 1: exactly --reps)")
      ->capture_default_str();
  cmd->add_option("--max-reps", o.max_reps, "main job: the cap with --until-ci")->capture_default_str();
  cmd->add_option("--replay-requests", o.replay_requests, "requests in the online replay")->capture_default_str();
  cmd->add_option("--replay-rate", o.replay_rate, "Poisson arrival rate of the online replay, req/s")
      ->capture_default_str();
  cmd->add_option("--validation-requests", o.validation_requests, "real-length requests run per validation")
      ->capture_default_str();
  cmd->add_flag("--no-simulated", o.no_simulated, "skip the simulated-GPU section");
  cmd->add_option("--seed", o.seed, "seed of request choices, arrivals and prompts")->capture_default_str();
}

}  // namespace

void add_study_command(CLI::App& app, Context& ctx) {
  auto f = std::make_shared<StudyFlags>();
  auto* cmd = app.add_subcommand("study",
                                 "the whole study end to end: sweep, estimates, FLOPs ideal, savings, replay, "
                                 "validation, report (no FILE: the main job on embedded defaults)");
  cmd->add_option("file", f->file, "study file (YAML, docs/study.md); none: the main job");
  cmd->add_option("--out", f->job.out, "output directory: results.db, models/, report.html")->capture_default_str();
  add_sensor_flags(cmd, f->sensors);
  cmd->add_option("--idle", f->job.idle_s, "measure idle power for this long first, s (0: none)")
      ->capture_default_str();
  add_main_job_flags(cmd, f->job);
  cmd->add_option("--measurements", f->measurements,
                  "published steady-state serving measurements (CSV, docs/fidelity.md): the report compares the "
                  "simulator with them (overrides a study file's `measurements`)");
  cmd->add_option("--max-cells", f->max_cells,
                  "refuse a study file whose grid has more cells than this (default: sized to this machine's memory)")
      ->capture_default_str();
  add_progress_flags(cmd, f->progress);
  add_output_flags(cmd, f->out);
  cmd->callback([f, &ctx] { ctx.exit_code = run(*f); });
}

}  // namespace jouleperf::cli
