// jouleperf report: a results store rendered as a self-contained HTML file (charts drawn
// by the inlined Vega-Lite), or as Markdown, CSV, JSON or console tables from the same
// row schema (docs/report.md).
#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "commands.hpp"
#include "jouleperf/core/atomic_file.hpp"
#include "jouleperf/report/html.hpp"
#include "jouleperf/report/report_data.hpp"
#include "jouleperf/report/table.hpp"
#include "jouleperf/report/tables.hpp"
#include "jouleperf/study/store.hpp"

namespace jouleperf::cli {
namespace {

struct ReportFlags {
  std::string store;
  std::string output;
  std::string format = "html";
  std::string table = "cells";
};

int fail(const Error& e) {
  std::fprintf(stderr, "jouleperf report: %s\n", e.to_string().c_str());
  return e.code == Errc::kInvalidArgument ? kExitUsage : kExitFailure;
}

Result<std::string> render(const ReportFlags& f, const report::ReportData& data) {
  if (f.format == "html") return report::html_report(data);
  auto tables = report::report_tables(data);
  if (!tables) return tables.error();
  std::string out;
  if (f.format == "console" || f.format == "md") {
    if (f.format == "md") out += "# jouleperf report\n\n";
    for (const auto& t : *tables) {
      out += f.format == "md" ? report::to_markdown(t) : report::to_console(t);
      out += "\n";
    }
    return out;
  }
  if (f.format == "json") {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& t : *tables) j[t.name] = report::to_json(t);
    return j.dump(2) + "\n";
  }
  // csv: one table.
  for (const auto& t : *tables)
    if (t.name == f.table) return report::to_csv(t);
  return make_error(Errc::kInvalidArgument,
                    "--table '" + f.table +
                        "': want one of cells, estimates, replays, validations (and fidelity, fidelity_errors when "
                        "the study named a measurements file)");
}

int run_report(const ReportFlags& f) {
  if (!std::filesystem::exists(f.store))
    return fail(make_error(Errc::kNotFound, "no results store at '" + f.store + "'"));
  // A reader: report works on a read-only store and never writes into a file that is not one.
  auto store = study::Store::open(f.store, study::StoreMode::kReadOnly);
  if (!store) return fail(store.error());
  auto data = report::load_report_data(*store);
  if (!data) return fail(data.error());
  auto text = render(f, *data);
  if (!text) return fail(text.error());
  std::string output = f.output;
  if (output.empty() && f.format == "html") output = "report.html";
  if (output.empty() || output == "-") {
    std::cout << *text;
    std::cout.flush();
    return std::cout ? kExitOk : kExitFailure;
  }
  // Atomic: on a full disk the old report stays whole.
  if (auto st = write_file_atomic(output, *text); !st) return fail(st.error());
  std::size_t charts = 0;
  if (f.format == "html") {
    auto built = report::build_charts(*data);
    if (built)
      for (const auto& c : *built) charts += c.spec.is_null() ? 0 : 1;
    std::fprintf(stderr, "jouleperf report: wrote %s (%zu bytes, %zu charts; opens without network)\n", output.c_str(),
                 text->size(), charts);
  } else {
    std::fprintf(stderr, "jouleperf report: wrote %s (%zu bytes)\n", output.c_str(), text->size());
  }
  return kExitOk;
}

}  // namespace

void add_report_command(CLI::App& app, Context& ctx) {
  auto f = std::make_shared<ReportFlags>();
  auto* cmd = app.add_subcommand(
      "report", "Render a results store: self-contained HTML with charts, or Markdown, CSV, JSON, console tables");
  cmd->add_option("--store", f->store, "results store (SQLite file written by sweep/study)")->required();
  cmd->add_option("-o,--output", f->output,
                  "output file; '-' = standard output (default: report.html for html, "
                  "standard output otherwise)");
  cmd->add_option("--format", f->format, "html | md | csv | json | console")
      ->check(CLI::IsMember({"html", "md", "csv", "json", "console"}))
      ->capture_default_str();
  cmd->add_option("--table", f->table, "with --format csv: cells | estimates | replays | validations")
      ->check(CLI::IsMember({"cells", "estimates", "replays", "validations"}))
      ->capture_default_str();
  cmd->callback([&ctx, f] { ctx.exit_code = run_report(*f); });
}

}  // namespace jouleperf::cli
