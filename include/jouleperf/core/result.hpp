// Result<T> and Error: how every module boundary in jouleperf reports failure.
// Errors are values; "unsupported" and "permission denied" are their own codes and
// are never turned into a zero.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace jouleperf {

enum class Errc {
  kInvalidArgument,   // the caller asked for something malformed or unknown
  kNotFound,          // a file, device, symbol or endpoint is absent
  kPermissionDenied,  // present but not readable by this user
  kUnsupported,       // the hardware or library does not offer this
  kIo,                // a read or write failed
  kParse,             // input was read but is malformed
  kNetwork,           // connection refused, HTTP error, unreachable host
  kTimeout,           // an operation did not finish in time
  kInternal,          // a bug or an unexpected state
};

// Stable lower-case name of an error code ("permission-denied", ...).
std::string_view errc_name(Errc code);

struct Error {
  Errc code = Errc::kInternal;
  std::string message;  // one line, names the thing that failed and, where known, the fix

  // "permission-denied: cannot read ..." — for logs and one-line CLI errors; URL
  // credentials (user:password@) in the message are redacted.
  std::string to_string() const;
};

inline Error make_error(Errc code, std::string message) { return Error{code, std::move(message)}; }

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : err_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return !err_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return *err_; }

 private:
  std::optional<Error> err_;
};

using Status = Result<void>;

}  // namespace jouleperf
