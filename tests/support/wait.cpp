#include "support/wait.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

namespace jouleperf::testing {

bool wait_until(const std::function<bool()>& condition, double bound_s) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(bound_s);
  auto pause = std::chrono::microseconds(1000);
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= end) return condition();
    // Polling, not a fixed wait: the condition is checked again after each short pause.
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(20000));
  }
  return true;
}

bool file_exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

bool process_catches(pid_t pid, int sig) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("SigCgt:", 0) != 0) continue;
    const unsigned long long mask = std::strtoull(line.c_str() + 7, nullptr, 16);
    return sig >= 1 && sig <= 64 && ((mask >> (sig - 1)) & 1ULL) != 0;
  }
  return false;
}

}  // namespace jouleperf::testing
