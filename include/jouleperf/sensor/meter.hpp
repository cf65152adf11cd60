// The Meter turns a Sampler's readings into energy per interval: the whole run and
// named phases (e.g. "prefill", "decode") delimited by marks on the sampler's clock.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "jouleperf/core/units.hpp"
#include "jouleperf/sensor/energy_slices.hpp"
#include "jouleperf/sensor/sampler.hpp"

namespace jouleperf {

// Idle power, to report energy above idle.
struct IdleBaseline {
  std::vector<std::optional<double>> power_w;  // per sampler sensor (same order), W; empty if given as a total
  double total_power_w = 0.0;                  // over sensors that count in the total, W
  std::string basis;                           // "measured for 2.0 s" or "given (--idle-power)"
};

// One sensor domain over one interval.
struct DomainEnergy {
  std::string sensor;  // family: rapl, nvml, prometheus, cpu-model, fake
  std::string domain;  // cpu-package:0, gpu:0, node:host:port, ...
  double energy_j = 0.0;
  double power_w = 0.0;        // mean power over the interval, W
  double uncertainty_j = 0.0;  // +- bound from resolution, update interval and sampling period, J
  std::optional<double> idle_power_w;
  std::optional<double> above_idle_j;
  std::uint64_t samples = 0;       // successful reads inside the interval (end reading included)
  std::uint64_t failed_reads = 0;  // failed reads inside the interval
  EnergySource source = EnergySource::kCounter;
  bool estimated = false;
  bool below_resolution = false;  // shorter than the sensor's update interval: not a precise figure
  bool in_total = true;           // false for sub-domains already counted elsewhere
  bool stale_end = false;         // the closing read failed or was rejected; the last good reading was used
  // Plausibility (docs/sensors.md): implausible samples are never used. A counter
  // bridges them (the delta between two good values is valid); a power integral spans
  // from the last good sample to the next good one.
  std::uint64_t rejected_reads = 0;  // reads inside the interval rejected as physically implausible
  std::string rejection;             // why the latest of them was rejected ("" when none)
  std::uint64_t counter_gaps = 0;    // counter re-bases inside the interval: energy across them unknown
  double gap_s = 0.0;                // seconds those gaps span (not in energy_j)
  bool incomplete = false;           // part of the interval has no valid reading (a counter gap, or a stale end):
                                     // energy_j covers less than the interval, and is not extrapolated;
                                     // power_w and above_idle_j are then over the covered time only
};

struct IntervalEnergy {
  std::string name;  // "total" for the whole run, else the phase name
  double start_s = 0.0;
  double end_s = 0.0;
  double duration_s = 0.0;
  double energy_j = 0.0;  // sum over domains with in_total
  double power_w = 0.0;
  double uncertainty_j = 0.0;
  std::optional<double> above_idle_j;
  bool estimated = false;            // any domain in the total is estimated
  std::string energy_source;         // "counter", "power-integral", "cpu-time-model" or "mixed: a+b"
  bool below_resolution = false;     // any domain in the total is below its resolution
  std::uint64_t rejected_reads = 0;  // implausible samples rejected, over every domain (sub-domains included)
  bool incomplete = false;           // any domain in the total is incomplete (see DomainEnergy); then
                                     // above_idle_j sums the domains' (unset when idle is only a total)
  std::vector<DomainEnergy> domains;
};

struct Measurement {
  IntervalEnergy total;
  std::vector<IntervalEnergy> phases;  // in mark order; empty when no phase was named
  std::optional<IdleBaseline> idle;
};

class Meter {
 public:
  explicit Meter(Sampler& sampler) : sampler_(sampler) {}

  void set_idle(IdleBaseline idle) { idle_ = std::move(idle); }

  // Starts measuring; `phase` names the first phase ("" = no phases, only the total).
  // Fails if already started.
  Status start(const std::string& phase = "");
  // Ends the current phase and begins `phase` at this instant. Fails if not started.
  Status mark(const std::string& phase);
  // Ends the run and computes every interval. Fails if not started, or when a sensor
  // has no good reading at all inside the run.
  Result<Measurement> stop();
  // The measured span after stop(): its first and last instants (clock s) with every
  // sensor's snapshot there, for energy_slices (whose sum then equals the total). kInternal
  // before stop() or while running.
  Result<SliceSpan> span() const;
  // The span of the interval named `phase` (from its mark to the next) after stop(), with
  // the snapshots there: slices over it sum to that phase's energy exactly. kInternal
  // before stop() or while running; kNotFound when no interval has that name.
  Result<SliceSpan> phase_span(const std::string& phase) const;

 private:
  struct Mark {
    std::string name;
    double t_s;  // on the sampler's clock
    std::vector<SensorSnapshot> snaps;
  };
  Result<IntervalEnergy> interval(const std::string& name, const Mark& a, const Mark& b) const;

  Sampler& sampler_;
  std::optional<IdleBaseline> idle_;
  std::vector<Mark> marks_;
  bool running_ = false;
};

// Measures idle power: the sampler must be started; sleeps `duration` on its clock
// and returns mean power per sensor over it. Fails like Meter::stop.
Result<IdleBaseline> measure_idle(Sampler& sampler, Seconds duration);

// An idle baseline given as a total power (e.g. --idle-power W).
IdleBaseline given_idle(Watts total);

}  // namespace jouleperf
