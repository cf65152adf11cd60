// jouleperf hardware list|show: the hardware profiles the simulator knows (built-in
// datasheet figures with their sources, plus user profiles from JSON files).
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "jouleperf/hardware/documents.hpp"
#include "jouleperf/hardware/registry.hpp"
#include "jouleperf/sim/hardware_notes.hpp"
#include "output_flags.hpp"

namespace jouleperf::cli {
namespace {

struct HardwareFlags {
  std::vector<std::string> files;
  std::string name;
  OutputFlags out;
};

Result<hardware::HardwareRegistry> registry_with(const std::vector<std::string>& files) {
  hardware::HardwareRegistry r;
  for (const auto& f : files)
    if (auto st = r.load_file(f); !st) return st.error();
  return r;
}

int run(const HardwareFlags& f, bool show) {
  const char* command = show ? "hardware show" : "hardware list";
  auto format = output_format(f.out, command);
  if (!format) return fail(command, format.error());
  auto r = registry_with(f.files);
  if (!r) return fail(command, r.error());
  if (!show) return emit(f.out, *format, hardware::list_document(*r), command);
  auto p = r->find(f.name);
  // An unknown name is a usage error; an unreadable --profiles file is not.
  if (!p) return fail(command, make_error(Errc::kInvalidArgument, p.error().message));
  return emit(f.out, *format, hardware::show_document(*p, sim::hardware_notes(*p)), command);
}

}  // namespace

void add_hardware_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand(
      "hardware", "Hardware profiles for the simulator: peak FLOP/s, bandwidth, memory, power, with sources");
  cmd->require_subcommand(1);
  for (const bool show : {false, true}) {
    auto f = std::make_shared<HardwareFlags>();
    auto* sub = show ? cmd->add_subcommand("show", "one profile, every figure with its source")
                     : cmd->add_subcommand("list", "every known profile, one line each");
    if (show) sub->add_option("name", f->name, "profile name or alias (h100-sxm, a6000, ...)")->required();
    sub->add_option("--profiles", f->files, "JSON file(s) of user profiles (format: docs/simulator.md)")
        ->envname("JOULEPERF_HARDWARE_PROFILES");
    add_output_flags(sub, f->out);
    sub->callback([&ctx, f, show] { ctx.exit_code = run(*f, show); });
  }
}

}  // namespace jouleperf::cli
