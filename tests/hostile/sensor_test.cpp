// Issue 12, "plausibility at every sensor": `jouleperf measure` against sensors that
// report physically impossible values. A RAPL counter that goes down without a
// plausible wrap, or jumps forward by more than the package could draw, and a
// Prometheus exporter whose power gauge reads 1e30, NaN or -5 W: the bad samples are
// rejected and counted, the measurement says so, and no figure is derived from them.
//
// The measured command itself is the hostile helper: it rewrites the sensor's value
// while jouleperf measures it, and jouleperf's closing reading sees the new value
// after the command has exited (no sleeps, no timing assumptions).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "support/http_server.hpp"
#include "support/temp_dir.hpp"

extern char** environ;

namespace jouleperf {
namespace {

constexpr std::uint64_t kIntelRangeUj = 262143328850;  // a real package zone's max_energy_range_uj

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs the built jouleperf with `args`; stdout and stderr go to files read back after it exits.
CliRun run_cli(std::vector<std::string> args) {
  testing::TempDir dir;
  const auto out = (dir.path() / "out").string(), err = (dir.path() / "err").string();
  args.insert(args.begin(), JP_CLI_PATH);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  CliRun r;
  const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return r;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::stringstream so, se;
  so << std::ifstream(out).rdbuf();
  se << std::ifstream(err).rdbuf();
  r.out = so.str();
  r.err = se.str();
  return r;
}

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

// One package zone laid out as in sysfs (root/intel-rapl:0/...), energy_uj rewritable in place.
struct OneZone {
  testing::TempDir dir;
  std::string root() const { return (dir.path() / "powercap").string(); }
  std::string energy_file() const { return root() + "/intel-rapl:0/energy_uj"; }
  explicit OneZone(std::uint64_t energy_uj, const std::string& max_range = std::to_string(kIntelRangeUj)) {
    dir.write("powercap/intel-rapl:0/name", "package-0\n");
    dir.write("powercap/intel-rapl:0/energy_uj", std::to_string(energy_uj) + "\n");
    dir.write("powercap/intel-rapl:0/max_energy_range_uj", max_range + "\n");
  }
};

// `jouleperf measure` on the zone while the command rewrites energy_uj to `new_uj`
// (in place, as sysfs regenerates it: the sensor keeps its descriptor open).
CliRun measure_rapl_rewrite(const OneZone& z, std::uint64_t new_uj) {
  return run_cli({"measure", "--sensor", "rapl", "--powercap-root", z.root(), "--json", "-", "--", "sh", "-c",
                  "printf '%s\\n' " + std::to_string(new_uj) + " > '" + z.energy_file() + "'"});
}

// What every rejected-sample measurement must say, whatever the sensor.
void expect_rejected_and_flagged(const CliRun& r, const nlohmann::json& j) {
  ASSERT_TRUE(j.contains("rejected_reads")) << r.out;
  EXPECT_GE(j.at("rejected_reads").get<std::uint64_t>(), 1u);
  ASSERT_TRUE(j.contains("incomplete")) << r.out;
  EXPECT_TRUE(j.at("incomplete").get<bool>());
  ASSERT_EQ(j.at("domains").size(), 1u);
  const auto& d = j.at("domains").at(0);
  ASSERT_TRUE(d.contains("rejected_reads")) << r.out;
  EXPECT_GE(d.at("rejected_reads").get<std::uint64_t>(), 1u);
  ASSERT_TRUE(d.contains("rejection") && d.at("rejection").is_string()) << r.out;
  EXPECT_TRUE(contains(r.err, "rejected")) << r.err;
  EXPECT_TRUE(contains(r.err, "INCOMPLETE")) << r.err;
}

TEST(HostileRaplCounter, DecreaseWithoutAPlausibleWrapIsRejectedNotReadAsAWrap) {
  OneZone z(10'000'000);                                // 10 J
  const CliRun r = measure_rapl_rewrite(z, 9'000'000);  // down 1 J: "a wrap" would mean 262 kJ at once
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  // Before the fix: ~262 kJ labelled "counter, measured".
  EXPECT_LT(j.at("energy_j").get<double>(), 1.0) << r.out;
  EXPECT_GE(j.at("energy_j").get<double>(), 0.0) << r.out;
  ASSERT_NO_FATAL_FAILURE(expect_rejected_and_flagged(r, j));
  EXPECT_TRUE(contains(j.at("domains").at(0).at("rejection").get<std::string>(), "wrap")) << r.out;
}

TEST(HostileRaplCounter, DecreaseWithZeroMaxEnergyRangeCannotBeAWrap) {
  OneZone z(10'000'000, "0");
  const CliRun r = measure_rapl_rewrite(z, 9'999'000);  // read as a reset before the fix: +10 J
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_LT(j.at("energy_j").get<double>(), 1.0) << r.out;
  ASSERT_NO_FATAL_FAILURE(expect_rejected_and_flagged(r, j));
  EXPECT_TRUE(contains(j.at("domains").at(0).at("rejection").get<std::string>(), "max_energy_range_uj")) << r.out;
}

TEST(HostileRaplCounter, ForwardJumpAboveThePackageBoundIsRejected) {
  OneZone z(10'000'000);
  const CliRun r = measure_rapl_rewrite(z, 10'000'000 + 100'000'000'000ULL);  // +100 kJ in one read
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_LT(j.at("energy_j").get<double>(), 1.0) << r.out;
  ASSERT_NO_FATAL_FAILURE(expect_rejected_and_flagged(r, j));
}

TEST(HostileRaplCounter, PlausibleWrapIsStillAWrap) {
  // 1 mJ below the top, then 1 mJ past zero: 2 mJ, a real wrap. Not rejected.
  OneZone z(999'000, "1000000");
  const CliRun r = measure_rapl_rewrite(z, 1'000);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_NEAR(j.at("energy_j").get<double>(), 2e-3, 1e-9) << r.out;
  ASSERT_TRUE(j.contains("rejected_reads")) << r.out;
  EXPECT_EQ(j.at("rejected_reads").get<std::uint64_t>(), 0u);
  EXPECT_FALSE(j.at("incomplete").get<bool>());
  EXPECT_FALSE(contains(r.err, "INCOMPLETE")) << r.err;
}

// A DCGM exporter served by the test whose value the measured command changes by
// rewriting a file the handler reads on every scrape.
struct FlakyExporter {
  testing::TempDir dir;
  std::string value_file = (dir.path() / "value").string();
  std::string metric;
  testing::HttpServer server{[this](const testing::HttpRequest&) {
    std::stringstream v;
    v << std::ifstream(value_file).rdbuf();
    std::string value = v.str();
    while (!value.empty() && (value.back() == '\n' || value.back() == ' ')) value.pop_back();
    testing::HttpReply reply;
    reply.body = "# TYPE " + metric + (metric.ends_with("USAGE") ? " gauge\n" : " counter\n") + metric +
                 "{gpu=\"0\",UUID=\"GPU-1\",modelName=\"Fake\"} " + value + "\n";
    return reply;
  }};
  FlakyExporter(std::string metric_name, const std::string& first_value) : metric(std::move(metric_name)) {
    dir.write("value", first_value + "\n");
  }
  CliRun measure_rewrite(const std::string& new_value) {
    return run_cli({"measure", "--sensor", "prometheus", "--prometheus", server.url(), "--json", "-", "--", "sh", "-c",
                    "printf '%s\\n' '" + new_value + "' > '" + value_file + "'"});
  }
};

TEST(HostilePrometheus, PowerGaugeOf1e30WattsIsRejected) {
  FlakyExporter ex("DCGM_FI_DEV_POWER_USAGE", "100");
  const CliRun r = ex.measure_rewrite("1e30");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const double e = j.at("energy_j").get<double>();
  EXPECT_TRUE(std::isfinite(e));
  // Only the 100 W samples count: about 100 W over the measured span (before the fix: ~1e30 J).
  // The bound is loose on purpose (a whole second of slack): it checks magnitude, not timing.
  EXPECT_LE(e, 100.0 * (j.at("duration_s").get<double>() + 1.0)) << r.out;
  ASSERT_NO_FATAL_FAILURE(expect_rejected_and_flagged(r, j));
  EXPECT_TRUE(contains(j.at("domains").at(0).at("rejection").get<std::string>(), "above")) << r.out;
}

TEST(HostilePrometheus, NanAndNegativePowerAreRejectedAndCounted) {
  for (const std::string bad : {"NaN", "-5", "+Inf"}) {
    FlakyExporter ex("DCGM_FI_DEV_POWER_USAGE", "100");
    const CliRun r = ex.measure_rewrite(bad);
    ASSERT_EQ(r.exit_code, 0) << bad << ": " << r.err;
    const auto j = nlohmann::json::parse(r.out);
    const double e = j.at("energy_j").get<double>();
    EXPECT_TRUE(std::isfinite(e)) << bad;
    EXPECT_GE(e, 0.0) << bad;
    EXPECT_LE(e, 100.0 * (j.at("duration_s").get<double>() + 1.0)) << bad << ": " << r.out;
    ASSERT_NO_FATAL_FAILURE(expect_rejected_and_flagged(r, j));
  }
}

TEST(HostilePrometheus, EnergyCounterJumpAboveTheGpuBoundIsRejected) {
  // DCGM's counter is in mJ: +1e11 mJ = 100 MJ in one scrape interval.
  FlakyExporter ex("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "5000000");
  const CliRun r = ex.measure_rewrite("100005000000");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_LT(j.at("energy_j").get<double>(), 1.0) << r.out;
  ASSERT_NO_FATAL_FAILURE(expect_rejected_and_flagged(r, j));
}

}  // namespace
}  // namespace jouleperf
