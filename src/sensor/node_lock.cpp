#include "jouleperf/sensor/node_lock.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

namespace jouleperf {
namespace {

std::string read_holder(int fd) {
  char buf[256] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  std::string s(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\0')) s.pop_back();
  return s.empty() ? std::string("another process") : s;
}

}  // namespace

std::string NodeLock::default_path() {
  // /run is root's; another user shares /tmp, which is the node's own too.
  return ::geteuid() == 0 ? "/run/jouleperf/node.lock" : "/tmp/jouleperf-node.lock";
}

Result<NodeLock> NodeLock::acquire(const std::string& path, const std::string& who, std::optional<double> wait_s,
                                   const std::function<void(std::string_view)>& on_wait) {
  const std::filesystem::path p(path);
  std::error_code ec;
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int err = errno;
    return make_error(err == EACCES || err == EPERM ? Errc::kPermissionDenied : Errc::kIo,
                      fmt::format("node lock {}: {} (run as root for /run, or give --node-lock PATH on the node's "
                                  "local disk)",
                                  path, std::strerror(err)));
  }
  const auto start = std::chrono::steady_clock::now();
  bool told = false;
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) {
      const int err = errno;
      ::close(fd);
      return make_error(Errc::kIo, fmt::format("node lock {}: flock: {}", path, std::strerror(err)));
    }
    if (!told && on_wait) on_wait(read_holder(fd));
    told = true;
    if (!wait_s) {  // as long as it takes: block in the kernel until the holder lets go
      int r = 0;
      while ((r = ::flock(fd, LOCK_EX)) != 0 && errno == EINTR) {
      }
      if (r == 0) break;
      const int err = errno;
      ::close(fd);
      return make_error(Errc::kIo, fmt::format("node lock {}: flock: {}", path, std::strerror(err)));
    }
    const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (wait_s && waited >= *wait_s) {
      const std::string holder = read_holder(fd);
      ::close(fd);
      return make_error(Errc::kTimeout, fmt::format("node lock {}: held by {} for the {:g} s waited; another shard "
                                                    "is measuring this node",
                                                    path, holder, *wait_s));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // a bounded wait polls the lock
  }
  // Ours: say who holds it, for the next one to wait.
  const std::string text = who + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
    const int err = errno;
    ::close(fd);
    return make_error(Errc::kIo, fmt::format("node lock {}: write: {}", path, std::strerror(err)));
  }
  return NodeLock(fd, path);
}

NodeLock::NodeLock(NodeLock&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) { other.fd_ = -1; }

NodeLock& NodeLock::operator=(NodeLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
  }
  return *this;
}

NodeLock::~NodeLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace jouleperf
