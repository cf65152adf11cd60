// The llama.cpp jouleperf links, and the tools built beside it, are the release the
// lock file pins (third_party/llama.cpp.lock).
#include <gtest/gtest.h>
#include <llama.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

namespace jouleperf {
namespace {

std::map<std::string, std::string> read_lock() {
  std::ifstream in(std::string(JP_SOURCE_DIR) + "/third_party/llama.cpp.lock");
  std::map<std::string, std::string> kv;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto eq = line.find('=');
    if (eq != std::string::npos) kv[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return kv;
}

std::string run_and_capture(const std::string& cmd) {
  std::string out;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return out;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  pclose(p);
  return out;
}

TEST(LlamaBuild, LinkedLibraryIsTheLockedRelease) {
  const auto lock = read_lock();
  ASSERT_EQ(lock.count("llama_cpp_tag"), 1u);
  std::string tag = "v";
  tag += llama_version();
  EXPECT_EQ(tag, lock.at("llama_cpp_tag"));
}

TEST(LlamaBuild, ToolsAreBuiltFromTheSameSource) {
  const auto lock = read_lock();
  const std::string commit = lock.at("llama_cpp_commit").substr(0, 8);
  for (const char* tool : {"llama-bench", "llama-batched-bench", "llama-server"}) {
    const auto path = std::filesystem::path(JP_LLAMA_PREFIX) / "bin" / tool;
    ASSERT_TRUE(std::filesystem::exists(path)) << path;
    const std::string version = run_and_capture(path.string() + " --version");
    EXPECT_NE(version.find(commit), std::string::npos) << tool << ": " << version;
  }
}

}  // namespace
}  // namespace jouleperf
