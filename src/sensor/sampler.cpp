#include "jouleperf/sensor/sampler.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace jouleperf {

struct Sampler::Track {
  std::unique_ptr<Sensor> sensor;
  mutable std::mutex mu;
  double period_s = 0.01;
  double next_due_s = 0.0;
  bool use_counter = false;
  bool have_first = false;
  double origin_j = 0.0;     // first counter value
  double cum_j = 0.0;        // cumulative energy since the first reading
  double cum_bound_j = 0.0;  // cumulative trapezoid error bound (power sensors)
  double last_t_s = 0.0;
  double last_p_w = std::numeric_limits<double>::quiet_NaN();
  std::uint64_t reads_ok = 0;
  std::uint64_t reads_failed = 0;
  std::uint64_t reads_rejected = 0;
  std::uint64_t counter_gaps = 0;
  double gap_s = 0.0;
  std::optional<Error> last_error;
  std::optional<std::string> last_rejection;
  bool last_fresh = false;
  std::vector<Sample> ring;  // preallocated; written at head
  std::size_t head = 0;
  std::uint64_t written = 0;
};

Sampler::Sampler(std::vector<std::unique_ptr<Sensor>> sensors, SamplerConfig config, const Clock& clock)
    : clock_(clock), config_(config) {
  const double power_period = config_.hz > 0 ? 1.0 / config_.hz : 0.01;
  const double counter_period = config_.counter_hz > 0 ? 1.0 / config_.counter_hz : power_period;
  const std::size_t cap = std::max<std::size_t>(config_.ring_capacity, 2);
  for (auto& s : sensors) {
    auto tr = std::make_unique<Track>();
    const auto& caps = s->info().caps;
    tr->period_s = caps.energy_counter ? counter_period : power_period;
    tr->period_s = std::max(tr->period_s, caps.poll_interval_s);
    tr->ring.resize(cap);
    tr->sensor = std::move(s);
    tracks_.push_back(std::move(tr));
  }
}

Sampler::~Sampler() { stop(); }

const SensorInfo& Sampler::info(std::size_t i) const { return tracks_.at(i)->sensor->info(); }

double Sampler::period_s(std::size_t i) const { return tracks_.at(i)->period_s; }

EnergySource Sampler::source(std::size_t i) const {
  const Track& tr = *tracks_.at(i);
  if (tr.sensor->info().caps.cpu_time_model) return EnergySource::kCpuTimeModel;
  std::lock_guard<std::mutex> lock(tr.mu);
  return tr.use_counter ? EnergySource::kCounter : EnergySource::kPowerIntegral;
}

namespace {

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// Why a power value is implausible for a sensor bounded by max_power_w (0 = no bound), or "".
std::string implausible_power(double p, double max_power_w) {
  if (std::isnan(p)) return "power is NaN";
  if (std::isinf(p)) return "power is infinite";
  if (p < 0) return "power is negative (" + num(p) + " W)";
  if (max_power_w > 0 && p > max_power_w)
    return "power " + num(p) + " W is above the sensor's " + num(max_power_w) + " W bound";
  return {};
}

}  // namespace

void Sampler::read_track(Track& tr) {
  auto r = tr.sensor->read();
  if (!r) {
    ++tr.reads_failed;
    tr.last_error = r.error();
    tr.last_fresh = false;
    return;
  }
  const Reading& rd = *r;
  const auto reject = [&tr](std::string why) {
    ++tr.reads_rejected;
    tr.last_rejection = std::move(why);
    tr.last_fresh = false;
  };
  if (rd.rejected) return reject(*rd.rejected);
  const double t = rd.t.value();
  const double max_power_w = tr.sensor->info().caps.max_power_w;
  const bool counter = tr.have_first ? tr.use_counter : rd.energy.has_value();
  double p = rd.power ? rd.power->value() : std::numeric_limits<double>::quiet_NaN();
  if (rd.power) {
    std::string why = implausible_power(p, max_power_w);
    if (!why.empty()) {
      if (!counter) return reject(why);
      p = std::numeric_limits<double>::quiet_NaN();  // extra detail of a counter: dropped, energy kept
    }
  }
  if (counter && rd.energy) {
    const double e = rd.energy->value();
    if (!std::isfinite(e)) return reject("counter energy is not finite");
    if (tr.have_first && e - tr.origin_j < tr.cum_j)
      return reject("cumulative energy went down by " + num(tr.cum_j - (e - tr.origin_j)) + " J");
  }
  if (rd.rebased) {
    ++tr.counter_gaps;
    tr.gap_s += std::max(0.0, rd.gap_s);
  }
  if (!tr.have_first) {
    tr.have_first = true;
    tr.use_counter = rd.energy.has_value();
    tr.origin_j = rd.energy ? rd.energy->value() : 0.0;
    tr.cum_j = 0.0;
  } else if (tr.use_counter) {
    if (!rd.energy) {
      ++tr.reads_failed;
      tr.last_error = make_error(Errc::kInternal, "counter sensor returned a reading without energy");
      tr.last_fresh = false;
      return;
    }
    tr.cum_j = rd.energy->value() - tr.origin_j;
  } else {
    if (!rd.power) {
      ++tr.reads_failed;
      tr.last_error = make_error(Errc::kInternal, "power sensor returned a reading without power");
      tr.last_fresh = false;
      return;
    }
    const double dt = t - tr.last_t_s;
    if (dt > 0 && !std::isnan(tr.last_p_w)) {
      tr.cum_j += 0.5 * (tr.last_p_w + p) * dt;
      tr.cum_bound_j += 0.5 * std::abs(p - tr.last_p_w) * dt;
    }
  }
  tr.last_t_s = t;
  tr.last_p_w = p;
  ++tr.reads_ok;
  tr.last_fresh = true;
  tr.ring[tr.head] = Sample{t, tr.cum_j, p};
  tr.head = (tr.head + 1) % tr.ring.size();
  ++tr.written;
}

Status Sampler::start(bool background) {
  if (started_) return make_error(Errc::kInternal, "sampler started twice");
  started_ = true;
  for (auto& tr : tracks_) {
    std::lock_guard<std::mutex> lock(tr->mu);
    read_track(*tr);
    if (tr->reads_ok == 0) {
      const auto& info = tr->sensor->info();
      if (!tr->last_error)
        return make_error(Errc::kIo, info.name + " " + info.domain + ": first read rejected as implausible: " +
                                         tr->last_rejection.value_or("no reading"));
      return make_error(tr->last_error->code,
                        info.name + " " + info.domain + ": first read failed: " + tr->last_error->message);
    }
    tr->next_due_s = tr->last_t_s + tr->period_s;
  }
  if (background) {
    stop_requested_.store(false);
    thread_ = std::thread([this] { run(); });
  }
  return {};
}

void Sampler::stop() {
  stop_requested_.store(true);
  if (thread_.joinable()) thread_.join();
}

double Sampler::poll_due_next() {
  double next = std::numeric_limits<double>::infinity();
  for (auto& tr : tracks_) {
    std::lock_guard<std::mutex> lock(tr->mu);
    const double now = clock_.now().value();
    if (now + 1e-9 >= tr->next_due_s) {
      read_track(*tr);
      tr->next_due_s += tr->period_s;
      if (tr->next_due_s <= now) tr->next_due_s = now + tr->period_s;  // fell behind: skip, do not burst
    }
    next = std::min(next, tr->next_due_s);
  }
  return next;
}

void Sampler::poll_due() { (void)poll_due_next(); }

void Sampler::run() {
  // A plain absolute-time sleep per wake-up (cheapest on a VM); stop() is noticed within
  // kMaxSleepS. The wake-up itself dominates the thread's cost: see docs/performance.md.
  constexpr double kMaxSleepS = 0.05;
  while (!stop_requested_.load(std::memory_order_relaxed)) {
    const double next = poll_due_next();
    const double now = clock_.now().value();
    clock_.sleep_until(Seconds(std::min(next, now + kMaxSleepS)));
  }
}

std::vector<SensorSnapshot> Sampler::snapshot() {
  std::vector<SensorSnapshot> out;
  out.reserve(tracks_.size());
  for (auto& tr : tracks_) {
    std::lock_guard<std::mutex> lock(tr->mu);
    read_track(*tr);
    SensorSnapshot s;
    s.t = Seconds(tr->last_t_s);
    s.energy = Joules(tr->cum_j);
    s.sampling_bound = Joules(tr->cum_bound_j);
    s.reads_ok = tr->reads_ok;
    s.reads_failed = tr->reads_failed;
    s.reads_rejected = tr->reads_rejected;
    s.counter_gaps = tr->counter_gaps;
    s.gap_s = tr->gap_s;
    s.fresh = tr->last_fresh;
    s.last_error = tr->last_error;
    s.last_rejection = tr->last_rejection;
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<Sample> Sampler::samples(std::size_t i, std::uint64_t* dropped) const {
  const Track& tr = *tracks_.at(i);
  std::lock_guard<std::mutex> lock(tr.mu);
  const std::size_t cap = tr.ring.size();
  const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(tr.written, cap));
  if (dropped) *dropped = tr.written - n;
  std::vector<Sample> out;
  out.reserve(n);
  const std::size_t first = (tr.head + cap - n) % cap;
  for (std::size_t k = 0; k < n; ++k) out.push_back(tr.ring[(first + k) % cap]);
  return out;
}

std::vector<std::pair<std::string, std::string>> Sampler::conditions() {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& tr : tracks_) {
    std::lock_guard<std::mutex> lock(tr->mu);
    for (auto& [k, v] : tr->sensor->conditions()) out.emplace_back(tr->sensor->info().domain + "." + k, v);
  }
  return out;
}

}  // namespace jouleperf
