// A temporary directory removed at scope end, for tests that build fake sysfs trees.
#pragma once

#include <filesystem>
#include <string>

namespace jouleperf::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  // Writes `content` to path()/rel, creating parent directories.
  std::filesystem::path write(const std::string& rel, const std::string& content) const;

 private:
  std::filesystem::path path_;
};

}  // namespace jouleperf::testing
