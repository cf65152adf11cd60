// Waiting on a condition instead of sleeping a fixed time: tests that wait for another
// process or thread (a file appearing, a signal handler installed, a count reached) poll
// the condition and return as soon as it holds, however loaded the machine is. The
// bound only stops a hang: it is generous (minutes), never a claim about speed.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>

namespace jouleperf::testing {

// Hang bound for wait_until, s: far above any wait on a loaded sanitizer build.
inline constexpr double kHangBoundS = 120.0;

// Polls `condition` (every 1 ms at first, backing off to 20 ms) until it returns true
// or `bound_s` seconds pass on the steady clock. True when the condition held; false
// only on the hang bound.
bool wait_until(const std::function<bool()>& condition, double bound_s = kHangBoundS);

// True once `path` exists (any kind of file).
bool file_exists(const std::string& path);

// True once process `pid` catches signal `sig` with a handler (the SigCgt mask in
// /proc/<pid>/status); false if the process is gone or /proc cannot be read.
bool process_catches(pid_t pid, int sig);

}  // namespace jouleperf::testing
