// GPU power caps in a measured sweep and the thermal protocol (issue 19, docs/controls.md),
// through the CLI on the fake NVML (tests/sensor/fake_nvml.c): its GPU draws
// min(limit, demand) for the work the sweep's process does, its temperature follows that
// power with a time constant, and its settings outlive the process (a state file, as the
// driver keeps them). Each cap is read back into the cells; the original limit comes back
// after the sweep, after SIGINT, and after SIGKILL by the next run; a setting that cannot
// be applied stops the sweep before its first cell with nothing changed.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "jouleperf/study/store.hpp"
#include "llama/tiny_model.hpp"
#include "support/chromium.hpp"
#include "support/golden.hpp"
#include "support/temp_dir.hpp"

namespace jouleperf {
namespace {

constexpr const char* kUuid = "GPU-00000000-0000-0000-0000-000000000000";

std::string slurp(const std::filesystem::path& p) {
  std::stringstream s;
  s << std::ifstream(p).rdbuf();
  return s.str();
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// One fake GPU (60 W idle, 300 W flat out, limit 100..300 W, 250 W to begin with) and the
// flags of a measured sweep on it.
struct FakeGpu {
  testing::TempDir dir;
  std::string d, state, journal, flags;
  explicit FakeGpu(const std::string& extra = "", double tau_s = 1.0) : d(dir.path().string()) {
    state = d + "/gpu.state";
    journal = d + "/settings.journal";
    const auto script = dir.write("nvml.txt",
                                  "gpu demand_mw=60000,300000 limit_mw=250000 max_limit_mw=300000 "
                                  "min_limit_mw=100000 clocks_mhz=1980,1500,1200,900 ambient_c=30 "
                                  "c_per_w=0.15 tau_s=" +
                                      std::to_string(tau_s) + " state=" + state + " " + extra + " name=Fake H100\n");
    setenv("FAKE_NVML_SCRIPT", script.c_str(), 1);        // the children inherit it
    std::filesystem::create_directories(d + "/thermal");  // no CPU thermal zone or hwmon: the GPU alone is watched
    flags = std::string(" --sensor nvml --nvml-lib ") + JP_FAKE_NVML_LIB + " --no-progress --node-lock none" +
            " --settings-journal " + journal + " --thermal-root " + d + "/thermal --hwmon-root " + d + "/thermal";
  }
  ~FakeGpu() { unsetenv("FAKE_NVML_SCRIPT"); }
  // The limit the driver holds, mW (the script's 250 W until something is set).
  std::string limit() const {
    const std::string s = slurp(state);
    const auto at = s.find("limit_mw ");
    return at == std::string::npos ? "250000" : s.substr(at + 9, s.find('\n', at) - at - 9);
  }
  // A study of one config per cap (settings gpu_power_limit_w), I=256, O=64, B=1.
  std::string study(const std::vector<std::string>& caps_w, const std::string& extra = "", int reps = 2) const {
    std::string y = "name: gpu-caps\nconfigs:\n";
    for (const auto& w : caps_w)
      y += "  - name: cap" + w + "\n    engine: llamacpp\n    model: " + testing::tiny_model() +
           "\n    threads: 1\n    settings: {gpu_power_limit_w: " + w + "}\n";
    y += "inputs: [256]\noutputs: [64]\nbatches: [1]\nrepetitions: " + std::to_string(reps) + "\nwarmup: 0\n" + extra;
    return dir.write("study.yaml", y).string();
  }
};

std::vector<study::CellResult> cells_of(const std::string& db) {
  auto store = study::Store::open(db, study::StoreMode::kReadOnly);
  EXPECT_TRUE(store) << db;
  if (!store) return {};
  auto cells = store->cells();
  EXPECT_TRUE(cells);
  return cells ? *cells : std::vector<study::CellResult>{};
}

TEST(GpuSettingsCli, ASweepOverThreeCapsRecordsEachReadBackAndRestoresTheLimit) {
  FakeGpu g;
  auto r = testing::run_program(JP_CLI_PATH,
                                "sweep " + g.study({"100", "200", "300"}) + " --store " + g.d + "/s.db" + g.flags);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(g.limit(), "250000");  // the original, put back after the sweep
  EXPECT_FALSE(std::filesystem::exists(g.journal));
  const auto cells = cells_of(g.d + "/s.db");
  ASSERT_EQ(cells.size(), 3u);
  std::map<double, double> power_w;  // cap -> mean power over its cell
  for (const auto& c : cells) {
    ASSERT_EQ(c.status, study::CellStatus::kDone) << c.reason;
    EXPECT_EQ(c.energy_source, "counter");
    const double cap = std::stod(c.key.config.substr(3));
    // The limit the device took, read back (mW), not the value asked for.
    EXPECT_EQ(c.conditions.at("machine_settings").at("nvml:" + std::string(kUuid) + "/power_limit_mw"),
              std::to_string(static_cast<int>(cap * 1000)));
    double joules = 0, seconds = 0;
    for (const auto& rep : c.reps) {
      ASSERT_EQ(rep.devices.size(), 1u);
      const auto& dev = rep.devices[0];
      EXPECT_EQ(dev.domain, "gpu:0");
      EXPECT_EQ(*dev.power_limit_w, cap);  // read back during the repetition
      ASSERT_TRUE(dev.temp_start_c && dev.temp_end_c && dev.throttle_reasons);
      joules += rep.energy_j;
      seconds += rep.duration_s;
    }
    power_w[cap] = joules / seconds;
    // min(cap, demand): never above the cap (one counter step of slack at the edges).
    EXPECT_LE(power_w[cap], cap * 1.1 + 5.0) << c.key.config;
    if (cap == 100) {  // llama.cpp's work asks for more than 100 W: the cap binds, and NVML says so
      EXPECT_GT(power_w[cap], 80.0);
      const auto& reasons = *c.reps[0].devices[0].throttle_reasons;
      EXPECT_NE(std::find(reasons.begin(), reasons.end(), "sw_power_cap"), reasons.end());
    }
  }
  EXPECT_LT(power_w[100], power_w[300]);
}

// Starts `args` as a child with stderr to `err`; returns its pid.
pid_t spawn(const std::vector<std::string>& args, const std::string& err) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const int fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

// Waits up to 60 s for the fake GPU's limit to become `mw`.
bool wait_for_limit(const FakeGpu& g, const std::string& mw) {
  for (int i = 0; i < 600; ++i) {
    if (g.limit() == mw) return true;
    ::usleep(100000);
  }
  return false;
}

std::vector<std::string> slow_sweep_args(const FakeGpu& g, const std::string& store) {
  std::vector<std::string> args{JP_CLI_PATH, "sweep", g.study({"150", "300"}, "idle_gap_s: 0.5\n", 8), "--store",
                                store};
  std::istringstream flags(g.flags);
  for (std::string f; flags >> f;) args.push_back(f);
  return args;
}

// Starts the slow two-cap sweep, waits until its 150 W cap is in force, sends `signal` and
// returns how the sweep ended (waitpid's status); -1 when it never capped the GPU.
int sweep_then_signal(const FakeGpu& g, int signal) {
  const pid_t pid = spawn(slow_sweep_args(g, g.d + "/s.db"), g.d + "/sweep.err");
  if (pid <= 0) return -1;
  const bool capped = wait_for_limit(g, "150000");
  ::kill(pid, capped ? signal : SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return capped ? status : -1;
}

constexpr const char* kRestoredLine = "restored (left changed by an earlier jouleperf): nvml ";

TEST(GpuSettingsCli, SigintStopsTheSweepAndRestoresTheLimit) {
  FakeGpu g;
  const int status = sweep_then_signal(g, SIGINT);
  ASSERT_NE(status, -1) << slurp(g.d + "/sweep.err");
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 130) << slurp(g.d + "/sweep.err");
  EXPECT_EQ(g.limit(), "250000");
  EXPECT_FALSE(std::filesystem::exists(g.journal));
}

TEST(GpuSettingsCli, AfterSigkillTheNextRunRestoresTheLimitBeforeItMeasures) {
  FakeGpu g;
  const int status = sweep_then_signal(g, SIGKILL);
  ASSERT_NE(status, -1) << slurp(g.d + "/sweep.err");
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_NE(g.limit(), "250000");  // left capped (150 or 300 W): nobody restored it
  ASSERT_TRUE(std::filesystem::exists(g.journal));
  // The next measured sweep (no GPU setting of its own) puts it back first.
  auto next = testing::run_program(JP_CLI_PATH, "sweep --model " + testing::tiny_model() +
                                                    " --threads 1 -I 8 -O 2 -B 1 --reps 1 --warmup 0 --store " + g.d +
                                                    "/next.db" + g.flags);
  EXPECT_EQ(next.exit_code, 0) << next.err;
  EXPECT_TRUE(contains(next.err, kRestoredLine + std::string(kUuid) + "/power_limit_mw = 250000")) << next.err;
  EXPECT_EQ(g.limit(), "250000");
  EXPECT_FALSE(std::filesystem::exists(g.journal));
}

// `jouleperf restore` puts a killed sweep's GPU limit back on its own, loading NVML for it.
TEST(GpuSettingsCli, RestorePutsBackTheLimitAKilledSweepLeft) {
  FakeGpu g;
  ASSERT_NE(sweep_then_signal(g, SIGKILL), -1) << slurp(g.d + "/sweep.err");
  ASSERT_NE(g.limit(), "250000");
  auto r =
      testing::run_program(JP_CLI_PATH, "restore --settings-journal " + g.journal + " --nvml-lib " + JP_FAKE_NVML_LIB);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, kRestoredLine + std::string(kUuid) + "/power_limit_mw = 250000")) << r.err;
  EXPECT_EQ(g.limit(), "250000");
  EXPECT_FALSE(std::filesystem::exists(g.journal));
}

TEST(GpuSettingsCli, PermissionAndRangeErrorsComeBeforeTheFirstCellWithNothingApplied) {
  {
    FakeGpu g("set_rc=4");  // NVML says NO_PERMISSION to every setter, as to a user not root
    auto r = testing::run_program(JP_CLI_PATH, "sweep " + g.study({"150"}) + " --store " + g.d + "/s.db" + g.flags);
    EXPECT_NE(r.exit_code, 0);
    EXPECT_TRUE(contains(r.err, "config \"cap150\": GPU " + std::string(kUuid))) << r.err;
    EXPECT_TRUE(contains(r.err, "Insufficient Permissions")) << r.err;
    EXPECT_TRUE(contains(r.err, "CAP_SYS_ADMIN")) << r.err;
    EXPECT_TRUE(contains(r.err, "nvidia-smi -pm 1")) << r.err;
    EXPECT_FALSE(std::filesystem::exists(g.state));  // never set
    EXPECT_TRUE(cells_of(g.d + "/s.db").empty());
  }
  FakeGpu g;
  auto low =
      testing::run_program(JP_CLI_PATH, "sweep " + g.study({"300", "90"}) + " --store " + g.d + "/s.db" + g.flags);
  EXPECT_NE(low.exit_code, 0);
  EXPECT_TRUE(contains(low.err, "config \"cap90\": GPU " + std::string(kUuid) +
                                    ": gpu_power_limit_w 90 is outside the range it accepts, 100..300 W"))
      << low.err;
  EXPECT_TRUE(cells_of(g.d + "/s.db").empty());  // not even the valid first config ran
  const std::string clock_study =
      g.dir
          .write("clock.yaml",
                 "name: clocks\nconfigs:\n  - name: odd\n    engine: llamacpp\n    model: " + testing::tiny_model() +
                     "\n    threads: 1\n    settings: {gpu_locked_clocks_mhz: 1234}\ninputs: [8]\n"
                     "outputs: [2]\nbatches: [1]\nrepetitions: 1\nwarmup: 0\n")
          .string();
  auto odd = testing::run_program(JP_CLI_PATH, "sweep " + clock_study + " --store " + g.d + "/c.db" + g.flags);
  EXPECT_NE(odd.exit_code, 0);
  EXPECT_TRUE(contains(odd.err, "gpu_locked_clocks_mhz 1234 is not a supported graphics clock")) << odd.err;
  EXPECT_EQ(g.limit(), "250000");  // the checks wrote the limit it had, nothing else
  // Without an NVML GPU measured there is nothing to cap: said, not ignored.
  auto cpu = testing::run_program(JP_CLI_PATH, "sweep " + g.study({"150"}) + " --store " + g.d +
                                                   "/cpu.db --sensor cpu-model --no-progress --node-lock none "
                                                   "--settings-journal " +
                                                   g.journal + " --thermal-root " + g.d + "/thermal");
  EXPECT_NE(cpu.exit_code, 0);
  EXPECT_TRUE(contains(cpu.err, "the sweep measures no GPU")) << cpu.err;
}

TEST(GpuSettingsCli, TheThermalProtocolCoolsDownWarmsUpRecordsBothAndTheReportShowsTemperature) {
  FakeGpu g("", 1.0);
  // Idle, the fake GPU settles at 30 + 0.15 x 60 = 39 C; busy it heats toward 75 C. Each
  // batch ends above 41 C, so the gate has to wait before the next cell's batch.
  auto r = testing::run_program(
      JP_CLI_PATH, "sweep " + g.study({"150", "300"}) + " --store " + g.d + "/s.db" + g.flags +
                       " --cooldown-temp 41 --cooldown-s 30 --warmup-steady --steady-window 2 --steady-slope 60 "
                       "--warmup-max-s 30 --thermal-poll 0.1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto cells = cells_of(g.d + "/s.db");
  ASSERT_EQ(cells.size(), 2u);
  double waited_s = 0;
  int gated = 0;
  for (const auto& c : cells) {
    const auto& warm = c.conditions.at("thermal_warmup");
    EXPECT_TRUE(warm.at("steady").get<bool>()) << warm.dump();
    EXPECT_GE(warm.at("batches").get<int>(), 1);
    EXPECT_GE(warm.at("ran_s").get<double>(), 2.0);  // at least one window of readings
    for (const auto& rep : c.reps) {
      ASSERT_EQ(rep.devices.size(), 1u);
      // Rep-major order runs cap150, cap300, cap300, cap150: the gate stands between cells,
      // so the third batch (the same cell again) has none.
      if (!rep.cooldown) continue;
      EXPECT_GT(*rep.devices[0].temp_end_c, *rep.devices[0].temp_start_c);  // from the target, the batch heats it
      ++gated;
      EXPECT_TRUE(rep.cooldown->reached);
      EXPECT_EQ(*rep.cooldown->target_c, 41.0);
      EXPECT_LE(*rep.cooldown->temp_c, 41.0);
      EXPECT_LE(*rep.devices[0].temp_start_c, 42.0);  // measured from the target
      waited_s += rep.cooldown->waited_s;
    }
  }
  EXPECT_EQ(gated, 3);
  EXPECT_GT(waited_s, 1.0);  // the gate did wait
  // The report's power-over-time chart carries the temperature line, and renders.
  auto rep = testing::run_program(JP_CLI_PATH,
                                  "report --store " + g.d + "/s.db -o html --output-file " + g.d + "/report.html");
  ASSERT_EQ(rep.exit_code, 0) << rep.err;
  const std::string html = slurp(g.d + "/report.html");
  EXPECT_TRUE(contains(html, "temperature (C)"));
  EXPECT_TRUE(contains(html, "\"temp_c\""));
  if (!testing::chromium_path().empty()) {
    const auto st = testing::render_in_chromium(html, /*probe=*/false);
    EXPECT_EQ(st.rendered, st.expected) << st.errors;
    EXPECT_EQ(st.error_count, 0) << st.errors;
  }
}

// A study that mixes simulated and measured configurations: the simulated cells are not
// watched, gated or warmed (they run on no device here); the measured ones are.
TEST(GpuSettingsCli, SimulatedCellsAreNotWatchedOrGated) {
  FakeGpu g;
  const std::string study =
      g.dir
          .write("mixed.yaml", "name: mixed\nconfigs:\n  - name: measured\n    engine: llamacpp\n    model: " +
                                   testing::tiny_model() +
                                   "\n    threads: 1\n  - name: simulated\n    engine: sim\n    model: llama-3.1-8b\n"
                                   "inputs: [16]\noutputs: [4]\nbatches: [1]\nrepetitions: 2\nwarmup: 0\n")
          .string();
  auto r = testing::run_program(JP_CLI_PATH, "sweep " + study + " --store " + g.d + "/m.db" + g.flags +
                                                 " --cooldown-s 0.2 --warmup-steady --steady-window 0.5 "
                                                 "--steady-slope 600 --warmup-max-s 5 --thermal-poll 0.05");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto cells = cells_of(g.d + "/m.db");
  ASSERT_EQ(cells.size(), 2u);
  for (const auto& c : cells) {
    const bool sim = c.key.config == "simulated";
    EXPECT_EQ(c.conditions.contains("thermal_warmup"), !sim) << c.key.config;
    for (const auto& rep : c.reps) {
      EXPECT_EQ(rep.devices.empty(), sim) << c.key.config;
      if (sim) {
        EXPECT_FALSE(rep.cooldown);
      }
    }
  }
}

}  // namespace
}  // namespace jouleperf
