// jouleperf's Python extension _jouleperf: the library's Monitor, results stores, estimate,
// traces, simulator and hardware profiles, for the pure-Python package python/jouleperf
// (docs/python.md). Each part registers itself from its own file (bindings.hpp).
#include <pybind11/pybind11.h>

#include "bindings.hpp"
#include "errors.hpp"

#ifndef JOULEPERF_VERSION
#error "JOULEPERF_VERSION is set by python/CMakeLists.txt"
#endif

PYBIND11_MODULE(_jouleperf, m) {
  m.doc() = "jouleperf's compiled core (docs/python.md): use the package jouleperf, not this module";
  m.attr("__version__") = JOULEPERF_VERSION;
  jouleperf::py::register_errors(m);
  jouleperf::py::register_monitor(m);
  jouleperf::py::register_store(m);
  jouleperf::py::register_pipelines(m);
}
