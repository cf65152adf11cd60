// jouleperf restore: puts back the machine settings a jouleperf changed and could not
// restore (killed, or the machine went down): the settings journal's pending entries
// (sensor/settings_journal.hpp, docs/controls.md).
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "output_flags.hpp"
#include "settings_flags.hpp"

namespace jouleperf::cli {
namespace {

constexpr const char* kCommand = "restore";

int run(const SettingsFlags& f) {
  auto journal = SettingsJournal::open(f.journal);
  if (!journal) return fail(kCommand, journal.error());
  if (journal->pending().empty()) {
    std::cout << "nothing to restore: " << f.journal << " lists no changed setting\n";
    return kExitOk;
  }
  if (auto st = restore_left_settings(f, kCommand, /*even_if_running=*/true); !st) return fail(kCommand, st.error());
  std::cout << "restored every setting " << f.journal << " listed\n";
  return kExitOk;
}

}  // namespace

void add_restore_command(CLI::App& app, Context& ctx) {
  auto f = std::make_shared<SettingsFlags>();
  auto* cmd = app.add_subcommand(
      "restore",
      "Put back the machine settings (CPU frequency, governor, RAPL limit, GPU power limit and clocks) a killed "
      "jouleperf left changed");
  add_settings_flags(cmd, *f, /*roots=*/true);
  cmd->callback([f, &ctx] { ctx.exit_code = run(*f); });
}

}  // namespace jouleperf::cli
