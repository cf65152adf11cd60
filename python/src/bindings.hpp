// The parts of the extension module _jouleperf, each registered by its own file.
#pragma once

#include <pybind11/pybind11.h>

namespace jouleperf::py {

void register_monitor(pybind11::module_& m);    // monitor.cpp: Monitor, windows, idle
void register_store(pybind11::module_& m);      // store.cpp: results stores, estimate
void register_pipelines(pybind11::module_& m);  // pipelines.cpp: traces, simulate, hardware

}  // namespace jouleperf::py
