#include "ggml_log.hpp"

#include <llama.h>

#include <mutex>

#include "jouleperf/core/text.hpp"

namespace jouleperf::detail {
namespace {

// ggml's logger is process-wide, so what it reports to is too.
struct LogState {
  std::mutex mu;
  std::string last;     // last complete warning/error
  std::string growing;  // the message being continued (GGML_LOG_LEVEL_CONT)
  bool keeping = false;
};

LogState& state() {
  static LogState s;
  return s;
}

void on_log(ggml_log_level level, const char* text, void* user) {
  auto* s = static_cast<LogState*>(user);
  std::lock_guard<std::mutex> lock(s->mu);
  if (level == GGML_LOG_LEVEL_CONT) {
    if (s->keeping) s->growing += text;
  } else {
    s->keeping = level == GGML_LOG_LEVEL_WARN || level == GGML_LOG_LEVEL_ERROR;
    if (s->keeping) s->growing = text;
  }
  if (s->keeping) s->last = std::string(trim(s->growing));
}

}  // namespace

void quiet_ggml_log() {
  static std::once_flag once;
  std::call_once(once, [] { llama_log_set(on_log, &state()); });
}

std::string take_ggml_error() {
  LogState& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  std::string out = std::move(s.last);
  s.last.clear();
  return out;
}

}  // namespace jouleperf::detail
