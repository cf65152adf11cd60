#include "errors.hpp"

namespace jouleperf::py {
namespace {

namespace pb = pybind11;

struct Exceptions {
  pb::object base, not_found, permission_denied, unsupported, invalid_argument, parse;
};

// Made at import; never destroyed (a Python object must not be released after the
// interpreter has ended).
Exceptions& exceptions() {
  static Exceptions* e = new Exceptions;
  return *e;
}

// A new exception class; its class attribute `code` is the default an instance shows
// (raise() sets the library's code on each instance it makes).
pb::object make_class(const char* name, PyObject* base, const char* doc, const char* code) {
  PyObject* cls = PyErr_NewExceptionWithDoc(name, doc, base, nullptr);
  if (cls == nullptr) throw pb::error_already_set();
  auto out = pb::reinterpret_steal<pb::object>(cls);
  out.attr("code") = pb::str(code);
  return out;
}

}  // namespace

void register_errors(pb::module_& m) {
  auto& x = exceptions();
  x.base = make_class("jouleperf.Error", PyExc_RuntimeError,
                      "A jouleperf failure: the message names what failed and how to fix it.", "internal");
  x.not_found =
      make_class("jouleperf.NotFoundError", x.base.ptr(), "A file, sensor, store or name does not exist.", "not-found");
  x.permission_denied =
      make_class("jouleperf.PermissionDeniedError", x.base.ptr(),
                 "A sensor or file is there but this user may not read or write it.", "permission-denied");
  x.unsupported =
      make_class("jouleperf.UnsupportedError", x.base.ptr(), "Not possible on this machine or build.", "unsupported");
  x.invalid_argument = make_class("jouleperf.InvalidArgumentError", x.base.ptr(),
                                  "A setting or argument is not valid (it says why).", "invalid-argument");
  x.parse =
      make_class("jouleperf.ParseError", x.base.ptr(),
                 "Input was read but is malformed (a trace line, a store, a JSON file; it names where).", "parse");
  m.attr("Error") = x.base;
  m.attr("ParseError") = x.parse;
  m.attr("NotFoundError") = x.not_found;
  m.attr("PermissionDeniedError") = x.permission_denied;
  m.attr("UnsupportedError") = x.unsupported;
  m.attr("InvalidArgumentError") = x.invalid_argument;
}

[[noreturn]] void raise(const Error& e) {
  auto& x = exceptions();
  pb::object cls = x.base;
  switch (e.code) {
    case Errc::kNotFound: cls = x.not_found; break;
    case Errc::kPermissionDenied: cls = x.permission_denied; break;
    case Errc::kUnsupported: cls = x.unsupported; break;
    case Errc::kInvalidArgument: cls = x.invalid_argument; break;
    case Errc::kParse: cls = x.parse; break;
    default: break;
  }
  // The instance carries the library's code ("not-found", "io", ...) beside the message.
  pb::object instance = cls(e.to_string());
  instance.attr("code") = pb::str(std::string(errc_name(e.code)));
  PyErr_SetObject(cls.ptr(), instance.ptr());
  throw pb::error_already_set();
}

}  // namespace jouleperf::py
