#include "jouleperf/sensor/measured_command.hpp"

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

#include "jouleperf/core/host.hpp"
#include "jouleperf/sensor/measurement_json.hpp"
#include "jouleperf/sensor/survey.hpp"

extern char** environ;

namespace jouleperf {

namespace {

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

// The forwarded signals stay blocked until the child runs, so one that arrives while the
// sensors start (or the idle baseline is measured, or the child is being spawned) waits
// in the kernel instead of being lost or killing jouleperf before it reports. The
// destructor restores the caller's mask.
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

// Spawns the command with the caller's mask and default dispositions of the forwarded
// signals; returns the posix_spawnp error (0 on success).
int spawn(const std::vector<std::string>& command, const SignalHold& hold, pid_t& pid) {
  std::vector<char*> argv;
  for (const auto& s : command) argv.push_back(const_cast<char*>(s.c_str()));
  argv.push_back(nullptr);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  const sigset_t defaults = forwarded_set();
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &hold.old_mask());  // the child starts with the caller's mask
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  const int rc = posix_spawnp(&pid, argv[0], nullptr, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  return rc;
}

// Runs the spawned child to its end inside the window "command".
void run_window(Monitor& monitor, SignalHold& hold, MeasuredCommand& out) {
  if (auto st = monitor.begin_window("command"); !st) {
    out.exit_code = 1;
    out.error = st.error().to_string();
    return;
  }
  pid_t pid = 0;
  if (const int rc = spawn(out.command, hold, pid); rc != 0) {
    (void)monitor.end_window("command");
    out.exit_code = rc == ENOENT ? 127 : 126;
    out.error = fmt::format("cannot run '{}': {}", out.command[0], std::strerror(rc));
    return;
  }
  hold.release_to(pid);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  g_child.store(-1);
  auto m = monitor.end_window("command");
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (m)
    out.measurement = std::move(*m);
  else
    out.error = m.error().to_string();
}

}  // namespace

Result<MeasuredCommand> measure_command(const MeasureCommandOptions& o, const Clock& clock,
                                        const std::function<void(std::string_view)>& notice) {
  if (o.command.empty()) return make_error(Errc::kInvalidArgument, "no command given");
  const double cpu0 = self_cpu_s();
  // Blocked before the handler is installed: once /proc shows the handler (SigCgt), a
  // signal can no longer be lost (tests/cli/measure_test.cpp relies on that order).
  g_child.store(0);
  g_pending.store(0);
  SignalHold hold;
  install_forwarding();
  auto monitor = Monitor::open(o.monitor, clock);
  if (!monitor) return monitor.error();
  Monitor& m = **monitor;
  if (notice && m.estimated_only() && o.monitor.sensors.names.empty()) notice(estimated_fallback_notice(m.problems()));
  if (o.idle_power_w) {
    m.set_idle(given_idle(Watts(*o.idle_power_w)));
  } else if (o.idle_s > 0) {
    if (auto st = m.measure_idle(Seconds(o.idle_s)); !st)
      return make_error(st.error().code, "idle baseline: " + st.error().message);
  }
  MeasuredCommand out;
  out.command = o.command;
  out.sampler_hz = o.monitor.sampler.hz;
  run_window(m, hold, out);
  m.sampler().stop();
  out.self_cpu_s = self_cpu_s() - cpu0;
  out.conditions = host_conditions();
  for (auto& c : m.sampler().conditions()) out.conditions.push_back(std::move(c));
  return out;
}

namespace {

std::string domain_note(const DomainEnergy& d) {
  std::string note;
  if (d.estimated) note += " ESTIMATED";
  if (!d.in_total) note += " (sub-domain, not in total)";
  if (d.below_resolution) note += " (shorter than the sensor's update interval)";
  if (d.failed_reads > 0) note += fmt::format(" ({} failed reads)", d.failed_reads);
  if (d.rejected_reads > 0) note += fmt::format(" ({} rejected: {})", d.rejected_reads, d.rejection);
  if (d.counter_gaps > 0) note += fmt::format(" (counter re-based; {:.3f} s not covered)", d.gap_s);
  if (d.incomplete) note += " INCOMPLETE";
  return note.empty() ? note : note.substr(1);
}

table::Table total_table(const MeasuredCommand& r) {
  const Measurement& m = *r.measurement;
  const IntervalEnergy& t = m.total;
  table::Table out{"total", "Energy", {{"quantity", "its unit in the name"}, {"value", ""}, {"note", ""}}, {}};
  const std::string source =
      t.energy_source + (t.estimated ? ", ESTIMATED" : ", measured") + (t.incomplete ? ", INCOMPLETE" : "");
  out.rows.push_back({std::string("energy_j"), t.energy_j, source});
  out.rows.push_back({std::string("uncertainty_j"), t.uncertainty_j,
                      std::string(t.estimated ? "resolution only; the model's own error is not bounded" : "")});
  if (t.above_idle_j && m.idle)
    out.rows.push_back({std::string("above_idle_j"), *t.above_idle_j,
                        fmt::format("idle {:.2f} W, {}", m.idle->total_power_w, m.idle->basis)});
  out.rows.push_back({std::string("power_w"), t.power_w, std::string("mean power")});
  out.rows.push_back({std::string("duration_s"), t.duration_s, std::string("elapsed")});
  out.rows.push_back({std::string("self_cpu_ms"), r.self_cpu_s * 1e3,
                      fmt::format("jouleperf's own CPU time ({:.2f}% of one core over the run)",
                                  t.duration_s > 0 ? 100.0 * r.self_cpu_s / t.duration_s : 0.0)});
  return out;
}

table::Table domains_table(const IntervalEnergy& t) {
  table::Table out{"domains",
                   "Domains",
                   {{"sensor", ""},
                    {"domain", ""},
                    {"energy_j", ""},
                    {"power_w", "mean"},
                    {"samples", ""},
                    {"source", ""},
                    {"note", ""}},
                   {}};
  for (const auto& d : t.domains)
    out.rows.push_back({d.sensor, d.domain, d.energy_j, d.power_w, static_cast<std::int64_t>(d.samples),
                        std::string(energy_source_name(d.source)), domain_note(d)});
  return out;
}

}  // namespace

table::Document measured_command_document(const MeasuredCommand& r) {
  const Measurement& m = *r.measurement;
  const IntervalEnergy& t = m.total;
  table::Document d;
  std::string command;
  for (const auto& s : r.command) command += (command.empty() ? "" : " ") + s;
  d.header = {fmt::format("Energy stats for '{}' (exit {}):", command, r.exit_code)};
  d.tables = {total_table(r), domains_table(t)};
  if (t.rejected_reads > 0)
    d.footer.push_back(
        fmt::format("{} sample(s) rejected as physically implausible: none is used in any figure.", t.rejected_reads));
  if (t.incomplete)
    d.footer.push_back(
        "INCOMPLETE: part of the run has no valid reading (a counter gap, or the last reads failed or were "
        "rejected); the energy above covers only the rest and is not extrapolated. See docs/sensors.md.");
  if (t.estimated)
    d.footer.push_back("Energy is ESTIMATED from CPU time (no hardware energy sensor was read); see docs/sensors.md.");
  nlohmann::json j = to_json(m);
  j["command"] = r.command;
  j["exit_code"] = r.exit_code;
  j["overhead"] = {{"cpu_s", r.self_cpu_s},
                   {"share_of_one_core", t.duration_s > 0 ? r.self_cpu_s / t.duration_s : 0.0}};
  nlohmann::json cond = nlohmann::json::object();
  for (const auto& [k, v] : r.conditions) cond[k] = v;
  cond["sampler_hz"] = r.sampler_hz;
  j["conditions"] = cond;
  d.json = std::move(j);
  return d;
}

}  // namespace jouleperf
