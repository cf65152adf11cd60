// jouleperf's Python extension (_jouleperf): the library's Monitor, its measurements and
// errors, for the pure-Python package in python/jouleperf (docs/python.md). Work in
// progress for issue 16: the Monitor and errors only.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <string>

#include "jouleperf/core/clock.hpp"
#include "jouleperf/core/result.hpp"
#include "jouleperf/sensor/monitor.hpp"

namespace py = pybind11;

namespace {

using namespace jouleperf;

// The Python exception classes, made once at import (module state, not globals of the library).
struct Exceptions {
  py::object base, not_found, permission_denied, unsupported, invalid_argument;
};

Exceptions& exceptions() {
  // Never destroyed: a Python object must not be released after the interpreter ends.
  static Exceptions* e = new Exceptions;
  return *e;
}

[[noreturn]] void raise(const Error& e) {
  auto& x = exceptions();
  py::object cls = x.base;
  switch (e.code) {
    case Errc::kNotFound: cls = x.not_found; break;
    case Errc::kPermissionDenied: cls = x.permission_denied; break;
    case Errc::kUnsupported: cls = x.unsupported; break;
    case Errc::kInvalidArgument: cls = x.invalid_argument; break;
    default: break;
  }
  PyErr_SetString(cls.ptr(), e.to_string().c_str());
  throw py::error_already_set();
}

template <class T>
T value_or_raise(Result<T>&& r) {
  if (!r) raise(r.error());
  return std::move(*r);
}

void ok_or_raise(const Status& s) {
  if (!s) raise(s.error());
}

py::dict domain_dict(const DomainEnergy& d) {
  py::dict out;
  out["sensor"] = d.sensor;
  out["domain"] = d.domain;
  out["energy_j"] = d.energy_j;
  out["power_w"] = d.power_w;
  out["uncertainty_j"] = d.uncertainty_j;
  out["above_idle_j"] = d.above_idle_j ? py::cast(*d.above_idle_j) : py::none();
  out["samples"] = d.samples;
  out["estimated"] = d.estimated;
  out["below_resolution"] = d.below_resolution;
  out["in_total"] = d.in_total;
  return out;
}

// A measured window as a plain dict (the Python Measurement class wraps it).
py::dict measurement_dict(const Measurement& m) {
  const auto& t = m.total;
  py::dict out;
  out["name"] = t.name;
  out["energy_j"] = t.energy_j;
  out["duration_s"] = t.duration_s;
  out["power_w"] = t.power_w;
  out["uncertainty_j"] = t.uncertainty_j;
  out["above_idle_j"] = t.above_idle_j ? py::cast(*t.above_idle_j) : py::none();
  out["estimated"] = t.estimated;
  out["energy_source"] = t.energy_source;
  out["below_resolution"] = t.below_resolution;
  py::list domains;
  for (const auto& d : t.domains) domains.append(domain_dict(d));
  out["domains"] = domains;
  return out;
}

// A Monitor with the clock it runs on (the clock must outlive it).
class PyMonitor {
 public:
  PyMonitor(const std::vector<std::string>& sensors, double hz, const std::string& powercap_root) {
    MonitorOptions o;
    o.sensors.names = sensors;
    if (!powercap_root.empty()) o.sensors.rapl.powercap_root = powercap_root;
    if (hz > 0) o.sampler.hz = hz;
    monitor_ = value_or_raise(Monitor::open(o, clock_));
  }
  void begin_window(const std::string& name) { ok_or_raise(monitor_->begin_window(name)); }
  py::dict end_window(const std::string& name) { return measurement_dict(value_or_raise(monitor_->end_window(name))); }
  void measure_idle(double seconds) {
    py::gil_scoped_release release;  // the idle measurement sleeps on the sampler's clock
    const Status st = monitor_->measure_idle(Seconds{seconds});
    py::gil_scoped_acquire acquire;
    ok_or_raise(st);
  }
  std::vector<std::string> open_windows() const { return monitor_->open_windows(); }
  std::string sensors() const { return monitor_->sensors(); }
  bool estimated_only() const { return monitor_->estimated_only(); }

 private:
  SteadyClock clock_;
  std::unique_ptr<Monitor> monitor_;
};

}  // namespace

PYBIND11_MODULE(_jouleperf, m) {
  m.doc() = "jouleperf's compiled core: sensors, the sampler and measured windows (docs/python.md)";
  auto& x = exceptions();
  x.base = py::reinterpret_borrow<py::object>(PyErr_NewException("jouleperf.Error", PyExc_RuntimeError, nullptr));
  x.not_found =
      py::reinterpret_borrow<py::object>(PyErr_NewException("jouleperf.NotFoundError", x.base.ptr(), nullptr));
  x.permission_denied =
      py::reinterpret_borrow<py::object>(PyErr_NewException("jouleperf.PermissionDeniedError", x.base.ptr(), nullptr));
  x.unsupported =
      py::reinterpret_borrow<py::object>(PyErr_NewException("jouleperf.UnsupportedError", x.base.ptr(), nullptr));
  x.invalid_argument =
      py::reinterpret_borrow<py::object>(PyErr_NewException("jouleperf.InvalidArgumentError", x.base.ptr(), nullptr));
  m.attr("Error") = x.base;
  m.attr("NotFoundError") = x.not_found;
  m.attr("PermissionDeniedError") = x.permission_denied;
  m.attr("UnsupportedError") = x.unsupported;
  m.attr("InvalidArgumentError") = x.invalid_argument;

  py::class_<PyMonitor>(m, "Monitor")
      .def(py::init<const std::vector<std::string>&, double, const std::string&>(), py::arg("sensors"),
           py::arg("hz") = 0.0, py::arg("powercap_root") = "")
      .def("begin_window", &PyMonitor::begin_window, py::arg("name"))
      .def("end_window", &PyMonitor::end_window, py::arg("name"))
      .def("measure_idle", &PyMonitor::measure_idle, py::arg("seconds"))
      .def("open_windows", &PyMonitor::open_windows)
      .def_property_readonly("sensors", &PyMonitor::sensors)
      .def_property_readonly("estimated_only", &PyMonitor::estimated_only);
}
