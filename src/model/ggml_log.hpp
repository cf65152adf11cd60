// llama.cpp and ggml print progress and errors through one process-wide logger. The
// library must not print, so every entry point that calls into them first routes that
// logger here: messages are dropped, except that the last warning or error is kept so a
// failure can say why (e.g. why a GGUF did not load).
#pragma once

#include <string>

namespace jouleperf::detail {

// Installs the quiet logger for llama.cpp and ggml (idempotent, thread-safe).
void quiet_ggml_log();

// The last warning or error llama.cpp/ggml logged since the previous call (trimmed;
// "" when none), and forgets it.
std::string take_ggml_error();

}  // namespace jouleperf::detail
