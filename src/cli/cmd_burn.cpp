// jouleperf burn: a built-in CPU workload (dense floating-point work on N threads for
// S seconds, workload/burn.hpp), so `make demo` has something real to measure anywhere.
#include <memory>

#include "commands.hpp"
#include "jouleperf/workload/burn.hpp"
#include "output_flags.hpp"

namespace jouleperf::cli {
namespace {

struct BurnArgs {
  workload::BurnOptions options;
  OutputFlags out;
};

int run_burn(const BurnArgs& a) {
  auto format = output_format(a.out, "burn");
  if (!format) return fail("burn", format.error());
  return emit(a.out, *format, workload::burn_document(workload::burn_cpu(a.options)), "burn");
}

}  // namespace

void add_burn_command(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<BurnArgs>();
  auto* cmd = app.add_subcommand("burn", "A built-in CPU workload to measure: floating-point work on N threads");
  cmd->add_option("--seconds", a->options.seconds, "How long, s")
      ->check(CLI::Range(0.01, 3600.0))
      ->capture_default_str();
  cmd->add_option("--gflop", a->options.gflop,
                  "Do this much work instead (GFLOP; fixed work, for overhead comparisons)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--threads", a->options.threads, "Threads")->check(CLI::Range(1, 1024))->capture_default_str();
  add_output_flags(cmd, a->out);
  cmd->callback([a, &ctx] { ctx.exit_code = run_burn(*a); });
}

}  // namespace jouleperf::cli
