#include "jouleperf/sensor/cpu_model.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "jouleperf/core/text.hpp"

namespace jouleperf {
namespace {

struct CpuTdp {
  const char* match;  // substring of /proc/cpuinfo "model name"
  double tdp_w;       // rated TDP, W (manufacturer's specification)
  int threads;        // logical CPUs per socket
};

// Manufacturer TDPs (Intel ARK, AMD product pages). Per-thread share = tdp / threads.
constexpr std::array<CpuTdp, 11> kTdpTable{{
    {"EPYC 9654", 360, 192},
    {"EPYC 7763", 280, 128},
    {"EPYC 7742", 225, 128},
    {"EPYC 7R13", 280, 128},
    {"Xeon(R) Platinum 8480", 350, 112},
    {"Xeon(R) Platinum 8380", 270, 80},
    {"Xeon(R) Platinum 8275CL", 240, 48},
    {"Xeon(R) Gold 6248", 150, 40},
    {"Core(TM) i9-13900K", 125, 32},
    {"Core(TM) i7-12700", 65, 20},
    {"Ryzen 9 7950X", 170, 32},
}};

constexpr double kGenericMaxWPerCpu = 10.0;
constexpr double kIdleShare = 0.30;

int count_cpus(std::string_view stat) {
  int n = 0;
  std::istringstream in{std::string(stat)};
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > 3 && line.compare(0, 3, "cpu") == 0 && line[3] >= '0' && line[3] <= '9') ++n;
  }
  return n;
}

std::string model_name(const std::string& cpuinfo_path) {
  auto text = read_text_file(cpuinfo_path);
  if (!text) return {};
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return std::string(trim(std::string_view(line).substr(colon + 1)));
    }
  }
  return {};
}

class CpuModelSensor final : public Sensor {
 public:
  CpuModelSensor(CpuModelOptions opts, CpuPowerParams params, const Clock& clock, int fd, CpuJiffies first, Seconds t0)
      : opts_(std::move(opts)), params_(std::move(params)), clock_(clock), fd_(fd), last_(first), last_t_(t0) {
    info_.name = "cpu-model";
    info_.domain = "cpu-model:all";
    char buf[256];
    std::snprintf(buf, sizeof buf, "ESTIMATED from CPU time: %.1f W idle .. %.1f W max over %d CPUs (%s)",
                  params_.idle_w, params_.max_w, params_.logical_cpus, params_.basis.c_str());
    info_.description = buf;
    info_.caps.energy_counter = true;
    info_.caps.power = true;
    info_.caps.estimated = true;
    info_.caps.cpu_time_model = true;
    const double tick_s = 0.01;  // USER_HZ = 100 on Linux
    info_.caps.update_interval_s = tick_s;
    info_.caps.resolution_j = (params_.max_w - params_.idle_w) / std::max(1, params_.logical_cpus) * tick_s;
    info_.caps.max_power_w = params_.max_w;  // the model never exceeds its own maximum
  }

  ~CpuModelSensor() override { ::close(fd_); }
  CpuModelSensor(const CpuModelSensor&) = delete;
  CpuModelSensor& operator=(const CpuModelSensor&) = delete;

  const SensorInfo& info() const override { return info_; }

  // One pread of the kept-open /proc/stat (procfs regenerates it on a read at offset 0):
  // no open, no allocation on the success path.
  Result<Reading> read() override {
    const ssize_t n = ::pread(fd_, buf_.data(), buf_.size(), 0);
    if (n < 0) return errno_error(errno, "cannot read " + opts_.proc_stat);
    auto j = parse_proc_stat(std::string_view(buf_.data(), static_cast<size_t>(n)));
    if (!j) return make_error(j.error().code, opts_.proc_stat + ": " + j.error().message);
    const Seconds t = clock_.now();
    const double dt = (t - last_t_).value();
    const unsigned long long dtotal = j->total >= last_.total ? j->total - last_.total : 0;
    const unsigned long long dbusy = j->busy >= last_.busy ? j->busy - last_.busy : 0;
    // No new tick since the last read: keep the last utilization rather than invent 0%.
    if (dtotal > 0) util_ = std::min(1.0, static_cast<double>(dbusy) / static_cast<double>(dtotal));
    const double p = params_.idle_w + (params_.max_w - params_.idle_w) * util_;
    if (dt > 0) energy_j_ += p * dt;
    if (dtotal > 0) last_ = *j;
    last_t_ = t;
    Reading r;
    r.t = t;
    r.energy = Joules(energy_j_);
    r.power = Watts(p);
    return r;
  }

  std::vector<std::pair<std::string, std::string>> conditions() override {
    return {{"cpu_model", params_.cpu_model}, {"cpu_power_model", info_.description}};
  }

 private:
  CpuModelOptions opts_;
  CpuPowerParams params_;
  const Clock& clock_;
  int fd_;
  std::array<char, 1024> buf_{};  // the aggregate cpu line is first; the rest is not needed
  SensorInfo info_;
  CpuJiffies last_;
  Seconds last_t_;
  double util_ = 0.0;
  double energy_j_ = 0.0;
};

}  // namespace

Result<CpuJiffies> parse_proc_stat(std::string_view text) {
  const auto nl = text.find('\n');
  std::string_view line = text.substr(0, nl);
  if (line.size() < 4 || line.substr(0, 4) != "cpu ")
    return make_error(Errc::kParse, "first line is not the aggregate 'cpu' line");
  line.remove_prefix(4);
  std::array<unsigned long long, 8> f{};  // user nice system idle iowait irq softirq steal
  size_t n = 0;
  while (n < f.size()) {
    const auto b = line.find_first_not_of(" \t\r");
    if (b == std::string_view::npos) break;
    line.remove_prefix(b);
    const auto e = std::min(line.find_first_of(" \t\r"), line.size());
    auto v = parse_u64(line.substr(0, e));  // no allocation on success
    if (!v)
      return make_error(Errc::kParse, "field " + std::to_string(n + 1) + " of the cpu line: " + v.error().message);
    f[n++] = *v;
    line.remove_prefix(e);
  }
  if (n < 5) return make_error(Errc::kParse, "cpu line has " + std::to_string(n) + " fields, need at least 5");
  CpuJiffies j;
  j.busy = f[0] + f[1] + f[2] + f[5] + f[6];
  j.total = j.busy + f[3] + f[4];
  return j;
}

Result<CpuPowerParams> resolve_cpu_power_params(const CpuModelOptions& opts) {
  auto stat = read_text_file(opts.proc_stat);
  if (!stat) return stat.error();
  CpuPowerParams p;
  p.logical_cpus = count_cpus(*stat);
  if (p.logical_cpus <= 0) return make_error(Errc::kParse, opts.proc_stat + ": no per-CPU lines");
  p.cpu_model = model_name(opts.cpuinfo);
  double max_w = kGenericMaxWPerCpu * p.logical_cpus;
  p.basis = "generic default: 10 W per logical CPU at full load, idle 30% of that";
  for (const auto& row : kTdpTable) {
    if (!p.cpu_model.empty() && p.cpu_model.find(row.match) != std::string::npos) {
      max_w = row.tdp_w / row.threads * p.logical_cpus;
      char buf[160];
      std::snprintf(buf, sizeof buf, "table: %s, %.0f W TDP over %d threads, scaled to %d visible CPUs, idle 30%%",
                    row.match, row.tdp_w, row.threads, p.logical_cpus);
      p.basis = buf;
      break;
    }
  }
  p.max_w = opts.max_w.value_or(max_w);
  p.idle_w = opts.idle_w.value_or(kIdleShare * p.max_w);
  if (opts.max_w || opts.idle_w) p.basis = "flags (--cpu-idle-w/--cpu-max-w); otherwise " + p.basis;
  if (!std::isfinite(p.idle_w) || !std::isfinite(p.max_w) || p.idle_w < 0 || p.max_w <= 0 || p.max_w < p.idle_w)
    return make_error(Errc::kInvalidArgument, "CPU power model needs finite 0 <= idle <= max and max > 0 (got idle " +
                                                  std::to_string(p.idle_w) + " W, max " + std::to_string(p.max_w) +
                                                  " W)");
  return p;
}

Result<std::unique_ptr<Sensor>> open_cpu_model_sensor(const CpuModelOptions& opts, const Clock& clock) {
  auto params = resolve_cpu_power_params(opts);
  if (!params) return params.error();
  auto text = read_text_file(opts.proc_stat);
  if (!text) return text.error();
  auto first = parse_proc_stat(*text);
  if (!first) return make_error(first.error().code, opts.proc_stat + ": " + first.error().message);
  const int fd = ::open(opts.proc_stat.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_error(errno, "cannot open " + opts.proc_stat);
  return std::unique_ptr<Sensor>(std::make_unique<CpuModelSensor>(opts, *params, clock, fd, *first, clock.now()));
}

}  // namespace jouleperf
