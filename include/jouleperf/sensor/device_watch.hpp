// Reads a set of DeviceProbes in a background thread and keeps what they said, so a
// sweep can ask what the devices did over a repetition: temperature at its start and end
// and at most, the power limit and clock in force, and every clock throttle reason seen
// (issue 19, docs/controls.md). Modelled on the Sampler: start, read, stop.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/core/result.hpp"
#include "jouleperf/sensor/device_probe.hpp"

namespace jouleperf {

// One read of one device.
struct DeviceSample {
  double t_s = 0.0;  // on the watch's clock
  std::size_t device = 0;
  DeviceSnapshot snapshot;
};

// What one device did over [t0, t1].
struct DeviceWindow {
  std::string domain;
  std::optional<double> temp_start_c, temp_end_c, temp_max_c;
  std::optional<double> power_limit_w, sm_clock_mhz;  // the last read in the window
  std::uint64_t throttle_reasons = 0;                 // every bit seen in the window
  bool throttle_known = false;                        // the device reports throttle reasons
  std::size_t reads = 0;
};

class DeviceWatch {
 public:
  // Starts a thread that reads every probe every `poll_s` seconds (real time), stamped on
  // `clock`. kInvalidArgument for no probe or poll_s <= 0. Samples older than the newest
  // `keep` per device are dropped (default about 4 hours at 4 Hz).
  static Result<std::unique_ptr<DeviceWatch>> start(std::vector<std::unique_ptr<DeviceProbe>> probes,
                                                    const Clock& clock, double poll_s, std::size_t keep = 57600);
  ~DeviceWatch();  // stops the thread
  DeviceWatch(const DeviceWatch&) = delete;
  DeviceWatch& operator=(const DeviceWatch&) = delete;

  std::size_t size() const { return probes_.size(); }
  const std::string& domain(std::size_t i) const { return probes_[i]->domain(); }

  // Reads every device now (kept like the thread's reads) and returns the reads of the
  // devices that answered; a device that did not is named in last_error(). Fails (as the
  // first probe failed, its domain named) only when no device answered.
  Result<std::vector<DeviceSample>> read_now();
  // The highest temperature in `samples`, C (nullopt when none has one).
  static std::optional<double> hottest(const std::vector<DeviceSample>& samples);
  // What each device did over [t0_s, t1_s], from the samples kept.
  std::vector<DeviceWindow> window(double t0_s, double t1_s) const;
  // The samples kept in [t0_s, t1_s], oldest first.
  std::vector<DeviceSample> samples(double t0_s, double t1_s) const;
  // The last error a read met ("" when none): a device that stopped answering.
  std::string last_error() const;
  // How many reads of a device have failed so far (all devices together).
  std::size_t failed_reads() const;

 private:
  DeviceWatch(std::vector<std::unique_ptr<DeviceProbe>> probes, const Clock& clock, double poll_s, std::size_t keep);
  void loop();
  Result<std::vector<DeviceSample>> read_locked();  // mu_ held

  std::vector<std::unique_ptr<DeviceProbe>> probes_;
  const Clock& clock_;
  double poll_s_;
  std::size_t keep_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::vector<DeviceSample> samples_;  // all devices, in time order
  std::string last_error_;
  std::size_t failed_reads_ = 0;
  std::thread thread_;
};

}  // namespace jouleperf
