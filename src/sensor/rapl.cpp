// RAPL sensors: one per powercap zone, each reading its energy_uj through a file
// descriptor kept open for the sensor's life (pread at offset 0 makes sysfs produce a
// fresh value), so the sampler's 100 Hz reads neither reopen nor allocate.
#include "jouleperf/sensor/rapl.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <optional>
#include <utility>

#include "jouleperf/core/text.hpp"
#include "jouleperf/sensor/counter.hpp"
#include "jouleperf/sensor/rapl_zones.hpp"

namespace jouleperf {
namespace {

constexpr double kJoulesPerMicrojoule = 1e-6;
constexpr double kUpdateIntervalS = 0.001;  // RAPL status registers refresh about every 1 ms

class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) {
      if (fd_ >= 0) ::close(fd_);
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

Error permission_error(const std::string& file, const std::string& root) {
  return make_error(Errc::kPermissionDenied,
                    "cannot read " + file +
                        ": permission denied. Since Linux 5.10 (CVE-2020-8694) energy_uj is readable by root only; "
                        "run as root, or grant read access until the next boot with `sudo chmod o+r " +
                        root +
                        "/intel-rapl*/energy_uj` (or to a group: chgrp + chmod g+r), or for good with a udev rule "
                        "(see docs/sensors.md, RAPL)");
}

Error gone_error(const std::string& file, int err) {
  return make_error(Errc::kNotFound, "RAPL zone file " + file + " is gone (" + errno_error(err, "read").message +
                                         "): the driver was unloaded or the package went offline");
}

// Reads one energy_uj value from an open descriptor. Failure modes: EACCES ->
// kPermissionDenied (with the fix), ENODEV/ENOENT or an unlinked file -> kNotFound,
// other errno -> errno_error, malformed text -> kParse naming the file.
Result<std::uint64_t> read_energy_uj(int fd, const std::string& file, const std::string& root) {
  char buf[32];
  ssize_t n = 0;
  do {
    n = ::pread(fd, buf, sizeof buf, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    const int err = errno;
    if (err == EACCES || err == EPERM) return permission_error(file, root);
    if (err == ENODEV || err == ENOENT) return gone_error(file, err);
    return errno_error(err, "cannot read " + file);
  }
  // sysfs answers ENODEV once the zone is unregistered; a plain file (a copied tree,
  // the tests) keeps its old bytes after removal, so ask whether it is still linked.
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_nlink == 0) return gone_error(file, ENOENT);
  if (static_cast<std::size_t>(n) == sizeof buf) return make_error(Errc::kParse, file + ": value too long");
  auto v = parse_u64(std::string_view(buf, static_cast<std::size_t>(n)));
  if (!v) return make_error(Errc::kParse, file + ": " + v.error().message);
  return *v;
}

Result<std::uint64_t> read_u64_file(const std::string& file) {
  auto text = read_text_file(file);
  if (!text) return text.error();
  auto v = parse_u64(*text);
  if (!v) return make_error(Errc::kParse, file + ": " + v.error().message);
  return *v;
}

CounterOptions counter_options(std::uint64_t max_range_uj, double max_power_w) {
  CounterOptions o;
  o.range_raw = max_range_uj;
  o.joules_per_raw = kJoulesPerMicrojoule;
  o.on_decrease = CounterDecrease::kWrap;  // range 0: no wrap possible, a decrease is rejected
  o.max_power_w = max_power_w;
  o.slack_s = kUpdateIntervalS;
  o.range_name = "max_energy_range_uj";
  return o;
}

// The largest constraint_<N>_max_power_uw > 0 of a zone, W; nullopt when none is readable.
std::optional<double> largest_constraint_max_w(const std::string& zone_path) {
  std::optional<double> best;
  for (int n = 0; n < 8; ++n) {
    auto uw = read_u64_file(zone_path + "/constraint_" + std::to_string(n) + "_max_power_uw");
    if (!uw) continue;
    if (*uw == 0) continue;
    const double w = static_cast<double>(*uw) * 1e-6;
    if (!best || w > *best) best = w;
  }
  return best;
}

class RaplSensor final : public Sensor {
 public:
  RaplSensor(RaplZone zone, UniqueFd fd, std::string energy_file, std::string root, std::uint64_t max_range_uj,
             std::uint64_t first_raw_uj, double max_power_w, std::string max_power_basis, const Clock& clock)
      : zone_(std::move(zone)),
        fd_(std::move(fd)),
        energy_file_(std::move(energy_file)),
        root_(std::move(root)),
        max_range_uj_(max_range_uj),
        max_power_basis_(std::move(max_power_basis)),
        unwrapper_(counter_options(max_range_uj, max_power_w)),
        clock_(clock) {
    info_.name = "rapl";
    info_.domain = zone_.domain;
    info_.description = zone_.path + " (" + zone_.name + ", " +
                        std::string(rapl_interface_name(zone_.parsed.interface)) + ")" +
                        (zone_.note.empty() ? "" : "; " + zone_.note);
    info_.caps.energy_counter = true;
    info_.caps.resolution_j = kJoulesPerMicrojoule;  // the file's unit; the hardware step is coarser (~61 uJ)
    info_.caps.update_interval_s = kUpdateIntervalS;
    info_.caps.in_total = zone_.in_total;
    info_.caps.max_power_w = max_power_w;
    unwrapper_.update(first_raw_uj, clock_.now());
  }

  const SensorInfo& info() const override { return info_; }

  Result<Reading> read() override {
    const Seconds t = clock_.now();
    auto raw = read_energy_uj(fd_.get(), energy_file_, root_);
    if (!raw) return raw.error();
    const CounterUpdate u = unwrapper_.update(*raw, t);
    Reading r;
    r.t = t;
    if (u.rejected) {
      r.rejected = "rapl " + info_.domain + " (" + energy_file_ + "): " + *u.rejected;
      return r;
    }
    r.energy = u.energy;
    r.rebased = u.rebased;
    r.gap_s = u.gap_s;
    return r;
  }

  std::vector<std::pair<std::string, std::string>> conditions() override {
    std::vector<std::pair<std::string, std::string>> out{
        {"zone", zone_.id},
        {"path", zone_.path},
        {"name", zone_.name},
        {"interface", std::string(rapl_interface_name(zone_.parsed.interface))},
        {"max_energy_range_uj", std::to_string(max_range_uj_)},
        {"counter_wraps", std::to_string(unwrapper_.wraps())},
        {"max_power_w", fmt::format("{:g}", info_.caps.max_power_w)},
        {"max_power_basis", max_power_basis_},
        {"rejected_reads", std::to_string(unwrapper_.rejected())},
        {"counter_rebases", std::to_string(unwrapper_.rebases())},
    };
    if (auto limit = read_u64_file(zone_.path + "/constraint_0_power_limit_uw")) {
      out.emplace_back("constraint_0_power_limit_uw", std::to_string(*limit));
      if (auto cname = read_text_file(zone_.path + "/constraint_0_name"))
        out.emplace_back("constraint_0_name", std::string(trim(*cname)));
    }
    return out;
  }

 private:
  RaplZone zone_;
  UniqueFd fd_;
  std::string energy_file_;
  std::string root_;
  std::uint64_t max_range_uj_;
  std::string max_power_basis_;
  CounterUnwrapper unwrapper_;
  const Clock& clock_;
  SensorInfo info_;
};

Result<std::unique_ptr<Sensor>> open_zone(RaplZone zone, const RaplOptions& opts, const Clock& clock) {
  const std::string& root = opts.powercap_root;
  const std::string max_file = zone.path + "/max_energy_range_uj";
  auto max_range = read_u64_file(max_file);
  if (!max_range) return max_range.error();

  const std::string energy_file = zone.path + "/energy_uj";
  UniqueFd fd(::open(energy_file.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    const int err = errno;
    if (err == EACCES || err == EPERM) return permission_error(energy_file, root);
    return errno_error(err, "cannot open " + energy_file);
  }
  auto first = read_energy_uj(fd.get(), energy_file, root);
  if (!first) return first.error();
  std::string basis;
  double max_power_w = 0.0;
  if (opts.max_power_w) {
    max_power_w = *opts.max_power_w;
    basis = "given (options)";
  } else {
    max_power_w = rapl_max_power_w(zone.name, largest_constraint_max_w(zone.path), &basis);
  }
  return std::unique_ptr<Sensor>(std::make_unique<RaplSensor>(std::move(zone), std::move(fd), energy_file, root,
                                                              *max_range, *first, max_power_w, basis, clock));
}

}  // namespace

double rapl_max_power_w(const std::string& zone_name, std::optional<double> largest_constraint_max_w,
                        std::string* basis) {
  constexpr double kConstraintFactor = 4.0;  // PL2/PL4 bursts run well above the rated maximum
  constexpr double kFloorW = 100.0;
  if (largest_constraint_max_w && *largest_constraint_max_w > 0) {
    const double w = std::max(kConstraintFactor * *largest_constraint_max_w, kFloorW);
    if (basis)
      *basis = fmt::format("4 x the largest constraint_*_max_power_uw ({:g} W), at least {:g} W",
                           *largest_constraint_max_w, kFloorW);
    return w;
  }
  double w = 5000.0;
  if (zone_name.rfind("package-", 0) == 0 || zone_name == "core" || zone_name == "uncore") {
    w = 1000.0;
  } else if (zone_name == "dram") {
    w = 500.0;
  }
  if (basis) *basis = "default for '" + zone_name + "' (no constraint max_power_uw)";
  return w;
}

Result<std::vector<std::unique_ptr<Sensor>>> open_rapl_sensors(const RaplOptions& opts, const Clock& clock,
                                                               std::vector<SensorProblem>& problems) {
  if (opts.max_power_w && !(*opts.max_power_w > 0 && std::isfinite(*opts.max_power_w)))
    return make_error(Errc::kInvalidArgument, "rapl: the power bound must be a positive number of W");
  const std::size_t first_problem = problems.size();
  auto zones = find_rapl_zones(opts.powercap_root, problems);
  if (!zones) return zones.error();

  std::vector<std::unique_ptr<Sensor>> sensors;
  for (auto& z : *zones) {
    const std::string path = z.path;
    auto s = open_zone(std::move(z), opts, clock);
    if (!s) {
      problems.push_back({"rapl", path, s.error()});
      continue;
    }
    sensors.push_back(std::move(s).value());
  }
  if (!sensors.empty()) return sensors;

  // Every zone failed: report a permission problem first (it has the fix), else the first.
  const Error* pick = nullptr;
  std::size_t failed = 0;
  for (std::size_t i = first_problem; i < problems.size(); ++i) {
    ++failed;
    if (pick == nullptr || (problems[i].error.code == Errc::kPermissionDenied && pick->code != Errc::kPermissionDenied))
      pick = &problems[i].error;
  }
  if (pick == nullptr) return make_error(Errc::kNotFound, "no usable RAPL zone under " + opts.powercap_root);
  return make_error(pick->code, "no RAPL zone under " + opts.powercap_root + " is readable (" + std::to_string(failed) +
                                    " failed): " + pick->message);
}

}  // namespace jouleperf
