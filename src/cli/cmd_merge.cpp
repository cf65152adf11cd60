// jouleperf merge: joins results stores (the shards of one sweep) into one.
#include <memory>

#include "commands.hpp"
#include "jouleperf/study/documents.hpp"
#include "output_flags.hpp"

namespace jouleperf::cli {
namespace {

constexpr const char* kCommand = "merge";

struct MergeFlags {
  std::string output;
  std::vector<std::string> inputs;
  study::MergeOptions options;
  OutputFlags out;
};

int run(const MergeFlags& f) {
  auto format = output_format(f.out, kCommand);
  if (!format) return fail(kCommand, format.error());
  auto m = study::merge_and_count(f.inputs, f.output, f.options);
  // A store that is not there is a usage error, as a bad argument is.
  if (!m) {
    const int rc = fail(kCommand, m.error());
    return m.error().code == Errc::kNotFound ? kExitUsage : rc;
  }
  return emit(f.out, *format, study::merge_document(*m), kCommand);
}

}  // namespace

void add_merge_command(CLI::App& app, Context& ctx) {
  auto f = std::make_shared<MergeFlags>();
  auto* cmd = app.add_subcommand("merge", "Join results stores (e.g. the shards of a sweep) into one");
  cmd->add_option("output", f->output, "The merged store (created if absent; its cells take part)")->required();
  cmd->add_option("inputs", f->inputs, "Stores to merge")->required();
  cmd->add_flag("--allow-incomplete", f->options.allow_incomplete,
                "Merge a study's shards even when some are absent, unfinished or miss cells (they are named); "
                "absent input stores are skipped");
  add_output_flags(cmd, f->out);
  cmd->callback([f, &ctx] { ctx.exit_code = run(*f); });
}

}  // namespace jouleperf::cli
