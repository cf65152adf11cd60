// The library's errors as Python exceptions: jouleperf.Error and its subclasses
// (NotFoundError, PermissionDeniedError, UnsupportedError, InvalidArgumentError,
// ParseError; each instance's `code` is the library's code name), made
// once when the module is imported; every binding turns a failed Result into one of them
// carrying the library's message.
#pragma once

#include <pybind11/pybind11.h>

#include <utility>

#include "jouleperf/core/result.hpp"

namespace jouleperf::py {

// Creates the exception classes and adds them to `m` (called once, at import).
void register_errors(pybind11::module_& m);

// Raises the Python exception for `e` (the class by its code). Needs the GIL.
[[noreturn]] void raise(const Error& e);

// The value of `r`, or raises its error.
template <class T>
T value_or_raise(Result<T>&& r) {
  if (!r) raise(r.error());
  return std::move(*r);
}

// Returns when `s` holds no error, else raises it.
inline void ok_or_raise(const Status& s) {
  if (!s) raise(s.error());
}

}  // namespace jouleperf::py
