// Atomic output files: temporary in the same directory, fsync, rename, fsync the directory.
#include "jouleperf/core/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <utility>

#include "jouleperf/core/text.hpp"

namespace jouleperf {

namespace {

std::string directory_of(const std::string& path) {
  const std::filesystem::path p(path);
  const auto parent = p.parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

void fsync_directory(const std::string& dir) {
  // Best effort: some file systems refuse fsync on a directory; the rename itself is done.
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

}  // namespace

AtomicFile::AtomicFile(std::string path, std::string temp, std::FILE* file)
    : path_(std::move(path)), temp_(std::move(temp)), file_(file) {}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : path_(std::move(other.path_)), temp_(std::move(other.temp_)), file_(std::exchange(other.file_, nullptr)) {
  other.temp_.clear();
}

AtomicFile& AtomicFile::operator=(AtomicFile&& other) noexcept {
  if (this != &other) {
    discard();
    path_ = std::move(other.path_);
    temp_ = std::move(other.temp_);
    file_ = std::exchange(other.file_, nullptr);
    other.temp_.clear();
  }
  return *this;
}

AtomicFile::~AtomicFile() { discard(); }

void AtomicFile::discard() noexcept {
  if (file_ != nullptr) {
    std::fclose(file_);
    file_ = nullptr;
  }
  if (!temp_.empty()) {
    ::unlink(temp_.c_str());
    temp_.clear();
  }
}

Result<AtomicFile> AtomicFile::create(const std::string& path) {
  if (path.empty()) return make_error(Errc::kInvalidArgument, "no output file name given");
  const std::string dir = directory_of(path);
  const std::string name = std::filesystem::path(path).filename().string();
  if (name.empty() || name == "." || name == "..")
    return make_error(Errc::kInvalidArgument, "output path '" + path + "' names a directory, not a file");
  struct stat target {};
  const bool exists = ::stat(path.c_str(), &target) == 0;
  if (exists && S_ISDIR(target.st_mode))
    return make_error(Errc::kInvalidArgument, "output path '" + path + "' is a directory");
  // The pid and a random number make the name unique; O_EXCL makes sure.
  std::random_device rd;
  for (int attempt = 0; attempt < 100; ++attempt) {
    const std::string temp =
        dir + "/." + name + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(rd() & 0xffffffu);
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
      if (errno == EEXIST) continue;
      return errno_error(errno, "cannot write '" + path + "' (temporary file in " + dir + ")");
    }
    // Keep the permissions of the file being replaced.
    if (exists && S_ISREG(target.st_mode)) (void)::fchmod(fd, target.st_mode & 07777);
    std::FILE* f = ::fdopen(fd, "wb");
    if (f == nullptr) {
      const int err = errno;
      ::close(fd);
      ::unlink(temp.c_str());
      return errno_error(err, "cannot write '" + path + "'");
    }
    return AtomicFile(path, temp, f);
  }
  return make_error(Errc::kIo, "cannot write '" + path + "': no free temporary file name in " + dir);
}

Status AtomicFile::write(std::string_view bytes) {
  if (file_ == nullptr) return make_error(Errc::kInternal, "write to '" + path_ + "' after commit");
  if (bytes.empty()) return {};
  errno = 0;
  if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) {
    const int err = errno != 0 ? errno : EIO;
    discard();
    return errno_error(err, "cannot write '" + path_ + "'");
  }
  return {};
}

Status AtomicFile::commit() {
  if (file_ == nullptr) return make_error(Errc::kInternal, "commit of '" + path_ + "' twice or after a failure");
  errno = 0;
  int err = 0;
  if (std::fflush(file_) != 0 || std::ferror(file_) != 0) err = errno != 0 ? errno : EIO;
  if (err == 0 && ::fsync(::fileno(file_)) != 0) err = errno;
  std::FILE* f = std::exchange(file_, nullptr);
  if (std::fclose(f) != 0 && err == 0) err = errno != 0 ? errno : EIO;
  if (err != 0) {
    discard();
    return errno_error(err, "cannot write '" + path_ + "'");
  }
  if (::rename(temp_.c_str(), path_.c_str()) != 0) {
    err = errno;
    discard();
    return errno_error(err, "cannot replace '" + path_ + "'");
  }
  temp_.clear();
  fsync_directory(directory_of(path_));
  return {};
}

Status write_file_atomic(const std::string& path, std::string_view bytes) {
  auto f = AtomicFile::create(path);
  if (!f) return f.error();
  if (auto st = f->write(bytes); !st) return st;
  return f->commit();
}

}  // namespace jouleperf
