// jouleperf merge: joins results stores (the shards of one sweep) into one.
#include <fmt/format.h>

#include <iostream>

#include "commands.hpp"
#include "jouleperf/study/store.hpp"

namespace jouleperf::cli {
namespace {

struct MergeArgs {
  std::string output;
  std::vector<std::string> inputs;
};

int run_merge(const MergeArgs& a) {
  auto st = study::merge_stores(a.inputs, a.output);
  if (!st) {
    std::cerr << "jouleperf merge: " << st.error().to_string() << "\n";
    return st.error().code == Errc::kInvalidArgument || st.error().code == Errc::kNotFound ? kExitUsage : kExitFailure;
  }
  auto out = study::Store::open(a.output, study::StoreMode::kReadOnly);
  if (!out) {
    std::cerr << "jouleperf merge: " << out.error().to_string() << "\n";
    return kExitFailure;
  }
  auto configs = out->configs();
  auto cells = out->cells();
  if (!configs || !cells) {
    std::cerr << "jouleperf merge: " << (configs ? cells.error() : configs.error()).to_string() << "\n";
    return kExitFailure;
  }
  std::cout << fmt::format("merged {} store(s) into {}: {} configs, {} cells\n", a.inputs.size(), a.output,
                           configs->size(), cells->size());
  return kExitOk;
}

}  // namespace

void add_merge_command(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<MergeArgs>();
  auto* cmd = app.add_subcommand("merge", "Join results stores (e.g. the shards of a sweep) into one");
  cmd->add_option("output", a->output, "The merged store (created if absent; its cells take part)")->required();
  cmd->add_option("inputs", a->inputs, "Stores to merge")->required();
  cmd->callback([a, &ctx] { ctx.exit_code = run_merge(*a); });
}

}  // namespace jouleperf::cli
