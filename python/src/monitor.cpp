// Monitor in Python: the library's Monitor (sensor/monitor.hpp) with its clock. The
// sampler runs on its own C++ thread; every call here releases the GIL while the library
// works, so other Python threads (and a busy loop being measured) run meanwhile.
#include "jouleperf/sensor/monitor.hpp"

#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "errors.hpp"
#include "jouleperf/core/clock.hpp"

namespace jouleperf::py {
namespace {

namespace pb = pybind11;

pb::object optional_float(const std::optional<double>& v) { return v ? pb::object(pb::float_(*v)) : pb::none(); }

pb::dict domain_dict(const DomainEnergy& d) {
  pb::dict out;
  out["sensor"] = d.sensor;
  out["domain"] = d.domain;
  out["energy_j"] = d.energy_j;
  out["power_w"] = d.power_w;
  out["uncertainty_j"] = d.uncertainty_j;
  out["idle_power_w"] = optional_float(d.idle_power_w);
  out["above_idle_j"] = optional_float(d.above_idle_j);
  out["source"] = std::string(energy_source_name(d.source));
  out["samples"] = d.samples;
  out["failed_reads"] = d.failed_reads;
  out["estimated"] = d.estimated;
  out["below_resolution"] = d.below_resolution;
  out["in_total"] = d.in_total;
  return out;
}

// A measured window `name` as a plain dict (the Python Measurement class wraps it).
pb::dict measurement_dict(const std::string& name, const Measurement& m) {
  const auto& t = m.total;
  pb::dict out;
  out["name"] = name;
  out["energy_j"] = t.energy_j;
  out["duration_s"] = t.duration_s;
  out["power_w"] = t.power_w;
  out["uncertainty_j"] = t.uncertainty_j;
  out["above_idle_j"] = optional_float(t.above_idle_j);
  out["idle_power_w"] = m.idle ? pb::object(pb::float_(m.idle->total_power_w)) : pb::none();
  out["idle_basis"] = m.idle ? pb::object(pb::str(m.idle->basis)) : pb::none();
  out["incomplete"] = t.incomplete;
  out["rejected_reads"] = t.rejected_reads;
  out["estimated"] = t.estimated;
  out["energy_source"] = t.energy_source;
  out["below_resolution"] = t.below_resolution;
  pb::list domains;
  for (const auto& d : t.domains) domains.append(domain_dict(d));
  out["domains"] = domains;
  return out;
}

// A Monitor with the clock it runs on (the clock must outlive it).
class PyMonitor {
 public:
  // `hz`: power sensors' read rate, `counter_hz`: energy counters' (0 = hz), Hz — the
  // ranges `jouleperf --hz/--counter-hz` take; InvalidArgumentError outside them.
  PyMonitor(const std::vector<std::string>& sensors, double hz, double counter_hz, const std::string& powercap_root) {
    if (!(hz >= 0.1 && hz <= 10000))
      raise(make_error(Errc::kInvalidArgument, "Monitor: hz must be in [0.1, 10000] readings per second"));
    if (!(counter_hz >= 0 && counter_hz <= 10000))
      raise(make_error(Errc::kInvalidArgument, "Monitor: counter_hz must be in [0, 10000] (0 = hz)"));
    MonitorOptions o;
    o.sensors.names = sensors;
    if (!powercap_root.empty()) o.sensors.rapl.powercap_root = powercap_root;
    o.sampler.hz = hz;
    o.sampler.counter_hz = counter_hz;
    Result<std::unique_ptr<Monitor>> m = make_error(Errc::kInternal, "monitor: not opened");
    {
      pb::gil_scoped_release release;  // opening probes every sensor family
      m = Monitor::open(o, clock_);
    }
    monitor_ = value_or_raise(std::move(m));
  }

  void begin_window(const std::string& name) {
    Status st;
    {
      pb::gil_scoped_release release;
      st = monitor_->begin_window(name);
    }
    ok_or_raise(st);
  }

  pb::dict end_window(const std::string& name) {
    Result<Measurement> m = make_error(Errc::kInternal, "monitor: not measured");
    {
      pb::gil_scoped_release release;
      m = monitor_->end_window(name);
    }
    return measurement_dict(name, value_or_raise(std::move(m)));
  }

  void measure_idle(double seconds) {
    if (!(seconds > 0 && seconds <= 3600))
      raise(make_error(Errc::kInvalidArgument, "Monitor: the idle baseline needs a duration in (0, 3600] s"));
    Status st;
    {
      pb::gil_scoped_release release;  // the idle measurement waits on the sampler
      st = monitor_->measure_idle(Seconds{seconds});
    }
    ok_or_raise(st);
  }

  std::vector<std::string> open_windows() const { return monitor_->open_windows(); }
  std::string sensors() const { return monitor_->sensors(); }
  bool estimated_only() const { return monitor_->estimated_only(); }
  std::vector<std::string> problems() const {
    std::vector<std::string> out;
    for (const auto& p : monitor_->problems()) out.push_back(p.name + " (" + p.target + "): " + p.error.to_string());
    return out;
  }

 private:
  SteadyClock clock_;
  std::unique_ptr<Monitor> monitor_;
};

}  // namespace

void register_monitor(pb::module_& m) {
  pb::class_<PyMonitor>(m, "Monitor", "The library's Monitor; use jouleperf.Monitor (docs/python.md).")
      .def(pb::init<const std::vector<std::string>&, double, double, const std::string&>(), pb::arg("sensors"),
           pb::arg("hz") = 100.0, pb::arg("counter_hz") = 10.0, pb::arg("powercap_root") = "")
      .def("begin_window", &PyMonitor::begin_window, pb::arg("name"))
      .def("end_window", &PyMonitor::end_window, pb::arg("name"))
      .def("measure_idle", &PyMonitor::measure_idle, pb::arg("seconds"))
      .def("open_windows", &PyMonitor::open_windows)
      .def_property_readonly("sensors", &PyMonitor::sensors)
      .def_property_readonly("estimated_only", &PyMonitor::estimated_only)
      .def_property_readonly("problems", &PyMonitor::problems);
}

}  // namespace jouleperf::py
