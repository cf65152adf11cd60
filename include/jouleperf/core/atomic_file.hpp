// Output files that are either the old content or the whole new content, never a torn
// mix: the bytes go to a temporary file in the target's directory, are fsync'd, and the
// temporary is renamed over the target (rename(2) is atomic within one file system).
// On any failure (disk full, file-size limit, permission) the old file is untouched and
// the temporary is removed.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

#include "jouleperf/core/result.hpp"

namespace jouleperf {

// A file being written atomically. Write through file() or write(); commit() publishes
// it; destroying an uncommitted AtomicFile removes the temporary and leaves the target
// as it was. Not copyable; movable.
class AtomicFile {
 public:
  // Creates the temporary "<dir>/.<name>.tmp-<pid>-<random>" (mode 0666 less the umask; an
  // existing target's mode is kept). kNotFound when the directory does not exist,
  // kPermissionDenied when it is not writable, kIo otherwise; the message names `path`.
  static Result<AtomicFile> create(const std::string& path);

  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&& other) noexcept;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();

  // The open temporary (for fwrite by writers that stream); null after commit().
  std::FILE* file() const { return file_; }
  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_; }

  // Appends bytes. kIo (or errno's code: EFBIG, ENOSPC...) naming the target on failure.
  Status write(std::string_view bytes);
  // Flushes, fsyncs, closes and renames the temporary over the target, then fsyncs the
  // directory. On failure the temporary is removed and the target is as it was.
  Status commit();

 private:
  AtomicFile(std::string path, std::string temp, std::FILE* file);
  void discard() noexcept;
  std::string path_;
  std::string temp_;
  std::FILE* file_ = nullptr;
};

// Writes `bytes` to `path` atomically (AtomicFile). Failure modes as AtomicFile.
Status write_file_atomic(const std::string& path, std::string_view bytes);

}  // namespace jouleperf
