// Keyword arguments from Python into the library's plain settings structs: each setting
// read by name and type, and any name left over an InvalidArgumentError listing the names
// that exist (a misspelt keyword never passes silently).
#pragma once

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <set>
#include <string>

#include "errors.hpp"

namespace jouleperf::py {

class Options {
 public:
  // `what` names the call in messages ("estimate", "simulate").
  Options(pybind11::dict kwargs, std::string what) : kwargs_(std::move(kwargs)), what_(std::move(what)) {}

  // Sets `field` from the keyword `name` when it is given and not None; a value of the
  // wrong type raises InvalidArgumentError naming the keyword.
  template <class T>
  Options& get(const char* name, T& field) {
    known_.insert(name);
    if (!kwargs_.contains(name)) return *this;
    pybind11::object v = kwargs_[name];
    if (v.is_none()) return *this;
    try {
      field = v.cast<T>();
    } catch (const pybind11::cast_error&) {
      raise(make_error(Errc::kInvalidArgument, what_ + ": " + name + " has the wrong type (" +
                                                   std::string(pybind11::str(v.get_type().attr("__name__"))) + ")"));
    }
    return *this;
  }
  template <class T>
  Options& get(const char* name, std::optional<T>& field) {
    T value{};
    const bool given = kwargs_.contains(name) && !pybind11::object(kwargs_[name]).is_none();
    get(name, value);
    if (given) field = value;
    return *this;
  }
  // True when the keyword was given (not None).
  bool given(const char* name) const { return kwargs_.contains(name) && !pybind11::object(kwargs_[name]).is_none(); }

  // Raises InvalidArgumentError for a keyword no get() asked for.
  void finish() const {
    std::string unknown, names;
    for (auto item : kwargs_) {
      const auto key = item.first.cast<std::string>();
      if (known_.count(key) == 0) unknown += (unknown.empty() ? "" : ", ") + key;
    }
    if (unknown.empty()) return;
    for (const auto& k : known_) names += (names.empty() ? "" : ", ") + k;
    raise(make_error(Errc::kInvalidArgument, what_ + ": unknown keyword " + unknown + " (known: " + names + ")"));
  }

 private:
  pybind11::dict kwargs_;
  std::string what_;
  std::set<std::string> known_;
};

}  // namespace jouleperf::py
