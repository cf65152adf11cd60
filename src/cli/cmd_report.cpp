// jouleperf report: a results store rendered as a self-contained HTML file (charts drawn
// by the inlined Vega-Lite), or as Markdown, CSV, JSON, JSON Lines or console tables from
// the same row schema (docs/report.md).
// Where and how it writes: report::choose_report_output (the old `-o FILE` still works).
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "commands.hpp"
#include "jouleperf/core/atomic_file.hpp"
#include "jouleperf/report/documents.hpp"
#include "jouleperf/study/store.hpp"
#include "output_flags.hpp"

namespace jouleperf::cli {
namespace {

constexpr const char* kCommand = "report";

struct ReportFlags {
  std::string store;
  std::string compare;
  OutputFlags out;
  std::string format = "html";
  std::string table = "cells";
};

int run_report(const ReportFlags& f) {
  const auto [format, file] = report::choose_report_output(f.out.json, f.out.output, f.out.file, f.format);
  if (!std::filesystem::exists(f.store))
    return fail(kCommand, make_error(Errc::kNotFound, "no results store at '" + f.store + "'"));
  // A reader: report works on a read-only store and never writes into a file that is not one.
  auto store = study::Store::open(f.store, study::StoreMode::kReadOnly);
  if (!store) return fail(kCommand, store.error());
  auto data = report::load_report_data(*store);
  if (!data) return fail(kCommand, data.error());
  std::optional<report::ReportData> before;
  if (!f.compare.empty()) {
    if (!std::filesystem::exists(f.compare))
      return fail(kCommand, make_error(Errc::kNotFound, "--compare: no results store at '" + f.compare + "'"));
    auto old_store = study::Store::open(f.compare, study::StoreMode::kReadOnly);
    if (!old_store)
      return fail(kCommand, make_error(old_store.error().code, "--compare: " + old_store.error().message));
    auto old_data = report::load_report_data(*old_store);
    if (!old_data) return fail(kCommand, make_error(old_data.error().code, "--compare: " + old_data.error().message));
    before = std::move(*old_data);
  }
  auto text = report::render_report(*data, format, f.table, before ? &*before : nullptr);
  if (!text) return fail(kCommand, text.error());
  if (file.empty() || file == "-") {
    std::fwrite(text->data(), 1, text->size(), stdout);
    return std::fflush(stdout) == 0 ? kExitOk : kExitFailure;
  }
  // Atomic: on a full disk the old report stays whole.
  if (auto st = write_file_atomic(file, *text); !st) return fail(kCommand, st.error());
  if (format == "html")
    std::fprintf(stderr, "jouleperf report: wrote %s (%zu bytes, %zu charts; opens without network)\n", file.c_str(),
                 text->size(), report::chart_count(*data));
  else
    std::fprintf(stderr, "jouleperf report: wrote %s (%zu bytes)\n", file.c_str(), text->size());
  return kExitOk;
}

}  // namespace

void add_report_command(CLI::App& app, Context& ctx) {
  auto f = std::make_shared<ReportFlags>();
  auto* cmd = app.add_subcommand(
      "report", "Render a results store: self-contained HTML with charts, or Markdown, CSV, JSON, console tables");
  cmd->add_option("--store", f->store, "results store (SQLite file written by sweep/study)")->required();
  cmd->add_option("--compare", f->compare,
                  "an older results store of the same study: adds a before/after section (energy change per "
                  "workload and configuration, matched by name, with intervals)");
  f->out.output.clear();  // -o: a format name, or (the old meaning) the output file
  add_output_flags(cmd, f->out);
  cmd->get_option("--output")
      ->description(
          "a format (html|console|md|csv|json|jsonl), or else the output file as before; '-' = standard output "
          "(default: report.html for html, standard output otherwise)");
  cmd->add_option("--format", f->format, std::string(report::report_format_choices()))
      ->check(CLI::IsMember({"html", "md", "csv", "json", "console", "jsonl"}))
      ->capture_default_str();
  cmd->add_option("--table", f->table,
                  "with csv: cells | estimates | replays | validations | compare | replay_requests | a fidelity "
                  "table (an unknown name is an error listing the store's tables)")
      ->capture_default_str();
  cmd->callback([&ctx, f] { ctx.exit_code = run_report(*f); });
}

}  // namespace jouleperf::cli
