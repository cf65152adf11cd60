// jouleperf measure -- CMD ARGS...: the energy of any command, the way `perf stat`
// measures its cycles. The command is exec'd directly (no shell); its exit code is ours.
#include <fmt/format.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "jouleperf/core/atomic_file.hpp"
#include "jouleperf/core/host.hpp"
#include "jouleperf/sensor/measurement_json.hpp"
#include "jouleperf/sensor/meter.hpp"
#include "sensor_flags.hpp"

extern char** environ;

namespace jouleperf::cli {
namespace {

struct MeasureArgs {
  SensorFlags flags;
  double idle_s = 0.0;
  std::optional<double> idle_power_w;
  std::string json_path;
  std::vector<std::string> command;
};

// The child's pid, for the signal handler (signals are process-wide by nature): 0 before
// it is started, -1 once it has been reaped.
std::atomic<pid_t> g_child{0};
// A signal that reached the handler before the child existed (only possible in a thread
// that did not block the forwarded signals): forwarded once the child is started.
std::atomic<int> g_pending{0};

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

// Forwards signals that were sent to jouleperf alone (kill, systemd...). A Ctrl-C from
// the terminal already reaches the child through the process group: not sent twice.
void forward_signal(int sig, siginfo_t* info, void*) {
  const pid_t child = g_child.load();
  if (child == 0) {
    g_pending.store(sig);
    return;
  }
  if (child < 0) return;
  if (info != nullptr && info->si_code == SI_KERNEL) return;
  kill(child, sig);
}

sigset_t forwarded_set() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : kForwarded) sigaddset(&set, sig);
  return set;
}

void install_forwarding() {
  struct sigaction sa {};
  sa.sa_sigaction = forward_signal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (int sig : kForwarded) sigaction(sig, &sa, nullptr);
}

// The forwarded signals stay blocked from the start of `measure` until the child runs, so
// one that arrives while the sensors start (or the idle baseline is measured, or the
// child is being spawned) waits in the kernel instead of being lost or killing jouleperf
// before it reports. Threads started meanwhile (the sampler's) inherit the block and
// never take these signals. The destructor restores the caller's mask.
class SignalHold {
 public:
  SignalHold() {
    const sigset_t set = forwarded_set();
    pthread_sigmask(SIG_BLOCK, &set, &old_);
  }
  ~SignalHold() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
  SignalHold(const SignalHold&) = delete;
  SignalHold& operator=(const SignalHold&) = delete;
  const sigset_t& old_mask() const { return old_; }

  // The child `pid` runs: sends it every signal that arrived before (whatever sent them:
  // a terminal's Ctrl-C then could not reach a child that did not exist yet), then lets
  // later ones through to forward_signal.
  void release_to(pid_t pid) {
    g_child.store(pid);
    const sigset_t set = forwarded_set();
    const timespec zero{};
    int sig = 0;
    while ((sig = sigtimedwait(&set, nullptr, &zero)) > 0) kill(pid, sig);
    if (const int early = g_pending.exchange(0); early != 0) kill(pid, early);
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t old_{};
};

// CPU time this process (not its child) has used, s: the measurement's own cost.
double self_cpu_s() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += ' ';
    out += s;
  }
  return out;
}

void print_summary(const std::vector<std::string>& command, int exit_code, const Measurement& m, double self_cpu) {
  const IntervalEnergy& t = m.total;
  auto& err = std::cerr;
  err << fmt::format("\n Energy stats for '{}' (exit {}):\n\n", join(command), exit_code);
  err << fmt::format("  {:>14.3f} J   energy  +- {:.3f} J{}  [{}{}{}]\n", t.energy_j, t.uncertainty_j,
                     t.estimated ? " (resolution only; the model's own error is not bounded)" : "", t.energy_source,
                     t.estimated ? ", ESTIMATED" : ", measured", t.incomplete ? ", INCOMPLETE" : "");
  if (t.above_idle_j && m.idle)
    err << fmt::format("  {:>14.3f} J   above idle (idle {:.2f} W, {})\n", *t.above_idle_j, m.idle->total_power_w,
                       m.idle->basis);
  err << fmt::format("  {:>14.3f} W   mean power\n", t.power_w);
  err << fmt::format("  {:>14.3f} s   elapsed\n\n", t.duration_s);
  err << fmt::format("  {:<11} {:<16} {:>12} {:>10} {:>8}  {}\n", "sensor", "domain", "energy_j", "power_w", "samples",
                     "source");
  for (const auto& d : t.domains) {
    std::string note;
    if (d.estimated) note += " ESTIMATED";
    if (!d.in_total) note += " (sub-domain, not in total)";
    if (d.below_resolution) note += " (shorter than the sensor's update interval)";
    if (d.failed_reads > 0) note += fmt::format(" ({} failed reads)", d.failed_reads);
    if (d.rejected_reads > 0) note += fmt::format(" ({} rejected: {})", d.rejected_reads, d.rejection);
    if (d.counter_gaps > 0) note += fmt::format(" (counter re-based; {:.3f} s not covered)", d.gap_s);
    if (d.incomplete) note += " INCOMPLETE";
    err << fmt::format("  {:<11} {:<16} {:>12.3f} {:>10.3f} {:>8}  {}{}\n", d.sensor, d.domain, d.energy_j, d.power_w,
                       d.samples, energy_source_name(d.source), note);
  }
  if (t.rejected_reads > 0)
    err << fmt::format("\n  {} sample(s) rejected as physically implausible: none is used in any figure.\n",
                       t.rejected_reads);
  if (t.incomplete)
    err << "  INCOMPLETE: part of the run has no valid reading (a counter gap, or the last reads failed or were\n"
           "  rejected); the energy above covers only the rest and is not extrapolated. See docs/sensors.md.\n";
  err << fmt::format("\n  jouleperf's own CPU time: {:.1f} ms ({:.2f}% of one core over the run)\n", self_cpu * 1e3,
                     t.duration_s > 0 ? 100.0 * self_cpu / t.duration_s : 0.0);
  if (t.estimated)
    err << "\n  Energy is ESTIMATED from CPU time (no hardware energy sensor was read); see docs/sensors.md.\n";
  err << "\n";
}

int run_measure(const MeasureArgs& a) {
  if (a.command.empty()) {
    std::cerr << "jouleperf measure: no command given (usage: jouleperf measure [options] -- CMD ARGS...)\n";
    return kExitUsage;
  }
  const double cpu0 = self_cpu_s();
  // Blocked before the handler is installed: once /proc shows the handler (SigCgt), a
  // signal can no longer be lost (tests/cli/measure_test.cpp relies on that order).
  g_child.store(0);
  g_pending.store(0);
  SignalHold hold;
  install_forwarding();
  SteadyClock clock;
  auto sampler_ptr = start_sampler(a.flags, clock, "measure");
  if (!sampler_ptr) return kExitFailure;
  Sampler& sampler = *sampler_ptr;
  Meter meter(sampler);
  std::optional<IdleBaseline> idle;
  if (a.idle_power_w) {
    idle = given_idle(Watts(*a.idle_power_w));
  } else if (a.idle_s > 0) {
    auto got = measure_idle(sampler, Seconds(a.idle_s));
    if (!got) {
      std::cerr << "jouleperf measure: idle baseline: " << got.error().to_string() << "\n";
      return kExitFailure;
    }
    idle = std::move(got).value();
  }
  if (idle) meter.set_idle(*idle);

  std::vector<char*> argv;
  for (const auto& s : a.command) argv.push_back(const_cast<char*>(s.c_str()));
  argv.push_back(nullptr);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  const sigset_t defaults = forwarded_set();
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &hold.old_mask());  // the child starts with the caller's mask
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  if (auto st = meter.start(); !st) {
    std::cerr << "jouleperf measure: " << st.error().to_string() << "\n";
    return kExitFailure;
  }
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, argv[0], nullptr, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    std::cerr << "jouleperf measure: cannot run '" << a.command[0] << "': " << std::strerror(rc) << "\n";
    return rc == ENOENT ? 127 : 126;
  }
  hold.release_to(pid);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  g_child.store(-1);
  auto m = meter.stop();
  sampler.stop();
  const int exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (!m) {
    std::cerr << "jouleperf measure: " << m.error().to_string() << "\n";
    return exit_code != 0 ? exit_code : kExitFailure;
  }
  const double self_cpu = self_cpu_s() - cpu0;
  print_summary(a.command, exit_code, *m, self_cpu);
  if (!a.json_path.empty()) {
    nlohmann::json j = to_json(*m);
    j["command"] = a.command;
    j["exit_code"] = exit_code;
    j["overhead"] = {{"cpu_s", self_cpu},
                     {"share_of_one_core", m->total.duration_s > 0 ? self_cpu / m->total.duration_s : 0.0}};
    nlohmann::json cond = nlohmann::json::object();
    for (const auto& [k, v] : host_conditions()) cond[k] = v;
    for (const auto& [k, v] : sampler.conditions()) cond[k] = v;
    cond["sampler_hz"] = a.flags.hz;
    j["conditions"] = cond;
    if (a.json_path == "-") {
      std::cout << j.dump(2) << "\n";
    } else {
      if (auto st = write_file_atomic(a.json_path, j.dump(2) + "\n"); !st) {
        std::cerr << "jouleperf measure: " << st.error().to_string() << "\n";
        return exit_code != 0 ? exit_code : kExitFailure;
      }
    }
  }
  return exit_code;
}

}  // namespace

void add_measure_command(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<MeasureArgs>();
  auto* cmd =
      app.add_subcommand("measure", "Measure the energy of a command: jouleperf measure [options] -- CMD ARGS...");
  add_sensor_flags(cmd, args->flags);
  cmd->add_option("--idle", args->idle_s, "Measure idle power for S seconds first and report energy above idle")
      ->envname("JOULEPERF_IDLE")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--idle-power", args->idle_power_w, "Idle power to subtract, W (instead of measuring it)")
      ->envname("JOULEPERF_IDLE_POWER")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--json", args->json_path, "Also write the result as JSON to FILE ('-' = stdout)")
      ->envname("JOULEPERF_JSON");
  cmd->add_option("command", args->command, "The command and its arguments (after --)");
  cmd->footer("Exit code: the command's own (128+N if killed by signal N; 127 if it cannot be found).");
  cmd->callback([args, &ctx] { ctx.exit_code = run_measure(*args); });
}

}  // namespace jouleperf::cli
