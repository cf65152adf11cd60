#include "jouleperf/core/result.hpp"

#include "jouleperf/core/safe_text.hpp"

namespace jouleperf {

std::string_view errc_name(Errc code) {
  switch (code) {
    case Errc::kInvalidArgument: return "invalid-argument";
    case Errc::kNotFound: return "not-found";
    case Errc::kPermissionDenied: return "permission-denied";
    case Errc::kUnsupported: return "unsupported";
    case Errc::kIo: return "io-error";
    case Errc::kParse: return "parse-error";
    case Errc::kNetwork: return "network-error";
    case Errc::kTimeout: return "timeout";
    case Errc::kInternal: return "internal-error";
  }
  return "internal-error";
}

std::string Error::to_string() const {
  std::string out(errc_name(code));
  out += ": ";
  // URL credentials never reach a log or a terminal through an error.
  out += redact_urls_in(message);
  return out;
}

}  // namespace jouleperf
