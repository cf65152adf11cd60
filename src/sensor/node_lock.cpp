#include "jouleperf/sensor/node_lock.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

namespace jouleperf {
namespace {

// What a process holding the node lock shared writes into it: the holders are in the GPUs' files.
constexpr std::string_view kSharedText = "shards measuring their own GPUs";

using SteadyTime = std::chrono::steady_clock::time_point;

std::string read_holder(int fd) {
  char buf[256] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  std::string s(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\0')) s.pop_back();
  return s.empty() ? std::string("another process") : s;
}

// "<node lock>.<id>", with anything but letters, digits, '-', '_' and '.' in the id made '_'.
std::string gpu_lock_path(const std::string& node_path, const std::string& id) {
  std::string safe = id;
  for (char& c : safe)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
  return node_path + "." + safe;
}

// The GPU locks beside `node_path` that some process holds: "GPU-...: <holder>, ...".
// A file nobody holds is left out (probed with a shared lock, let go at once).
std::string gpu_holders(const std::string& node_path) {
  const std::filesystem::path node(node_path);
  const std::string prefix = node.filename().string() + ".";
  std::vector<std::string> held;
  std::error_code ec;
  const auto dir = node.has_parent_path() ? node.parent_path() : std::filesystem::path(".");
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const int fd = ::open(entry.path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    if (::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK)
      held.push_back(name.substr(prefix.size()) + ": " + read_holder(fd));
    ::close(fd);
  }
  std::sort(held.begin(), held.end());
  std::string out;
  for (const auto& h : held) out += (out.empty() ? "" : ", ") + h;
  return out.empty() ? std::string(kSharedText) : out;
}

// Who holds the lock `fd` (of `path`): its text, or for the node lock held shared, the GPU holders.
std::string holder_of(int fd, const std::string& path, bool is_node) {
  const std::string text = read_holder(fd);
  return is_node && text == kSharedText ? gpu_holders(path) : text;
}

Result<int> open_lock_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0) return fd;
  const int err = errno;
  return make_error(err == EACCES || err == EPERM ? Errc::kPermissionDenied : Errc::kIo,
                    fmt::format("node lock {}: {} (run as root for /run, or give --node-lock PATH on the node's "
                                "local disk)",
                                path, std::strerror(err)));
}

// One lock to take: its file, LOCK_EX or LOCK_SH, and what it stands for.
struct LockStep {
  std::string path;
  int op = LOCK_EX;
  std::string what;  // "the node", "GPU GPU-..."
  bool is_node = true;
};

struct WaitRules {
  SteadyTime start;
  std::optional<double> wait_s;  // the whole wait, s (nullopt: unbounded)
  const std::function<void(const NodeLockWait&)>* on_wait;
};

Error flock_error(const std::string& path, int err) {
  return make_error(Errc::kIo, fmt::format("node lock {}: flock: {}", path, std::strerror(err)));
}

// Takes `step` on `fd`, waiting as `rules` say.
Status take(int fd, const LockStep& step, const WaitRules& rules) {
  bool told = false;
  while (::flock(fd, step.op | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) return flock_error(step.path, errno);
    if (!told && *rules.on_wait)
      (*rules.on_wait)(NodeLockWait{step.what, holder_of(fd, step.path, step.is_node), step.path});
    told = true;
    if (!rules.wait_s) {  // as long as it takes: block in the kernel until the holder lets go
      int r = 0;
      while ((r = ::flock(fd, step.op)) != 0 && errno == EINTR) {
      }
      if (r == 0) return {};
      return flock_error(step.path, errno);
    }
    const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - rules.start).count();
    if (waited >= *rules.wait_s) {
      const std::string mine = step.is_node ? "this node" : step.what;
      return make_error(Errc::kTimeout,
                        fmt::format("{} lock {}: held by {} for the {:g} s waited; another shard is measuring {}",
                                    step.is_node ? "node" : "GPU", step.path, holder_of(fd, step.path, step.is_node),
                                    *rules.wait_s, mine));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // a bounded wait polls the lock
  }
  return {};
}

// Says who holds the lock, for the next one to wait: written, then cut to length (so that
// processes holding it shared, writing the same text, never leave it half written).
Status write_holder(int fd, const std::string& path, const std::string& text) {
  if (::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()) ||
      ::ftruncate(fd, static_cast<off_t>(text.size())) != 0)
    return make_error(Errc::kIo, fmt::format("node lock {}: write: {}", path, std::strerror(errno)));
  return {};
}

std::vector<LockStep> steps_for(const std::string& path, const NodeLockScope& scope) {
  std::vector<LockStep> steps{{path, scope.whole_node() ? LOCK_EX : LOCK_SH, "the node", true}};
  std::vector<std::string> gpus = scope.gpus;
  std::sort(gpus.begin(), gpus.end());
  gpus.erase(std::unique(gpus.begin(), gpus.end()), gpus.end());
  for (const auto& id : gpus) steps.push_back({gpu_lock_path(path, id), LOCK_EX, "GPU " + id, false});
  return steps;
}

}  // namespace

NodeLockScope node_lock_scope(const std::vector<SensorInfo>& sensors, bool gpus_restricted) {
  NodeLockScope scope;
  if (!gpus_restricted) return scope;
  for (const auto& s : sensors) {
    if (s.name != "nvml" || s.domain.rfind("gpu:", 0) != 0) return NodeLockScope{};
    scope.gpus.push_back(s.device_uuid.empty() ? "gpu-" + s.domain.substr(4) : s.device_uuid);
  }
  std::sort(scope.gpus.begin(), scope.gpus.end());
  return scope;
}

std::string NodeLock::default_path() {
  // /run is root's; another user shares /tmp, which is the node's own too.
  return ::geteuid() == 0 ? "/run/jouleperf/node.lock" : "/tmp/jouleperf-node.lock";
}

Result<NodeLock> NodeLock::acquire(const std::string& path, const std::string& who, std::optional<double> wait_s,
                                   const std::function<void(const NodeLockWait&)>& on_wait) {
  return acquire(path, NodeLockScope{}, who, wait_s, on_wait);
}

Result<NodeLock> NodeLock::acquire(const std::string& path, const NodeLockScope& scope, const std::string& who,
                                   std::optional<double> wait_s,
                                   const std::function<void(const NodeLockWait&)>& on_wait) {
  const std::filesystem::path p(path);
  std::error_code ec;
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
  const WaitRules rules{std::chrono::steady_clock::now(), wait_s, &on_wait};
  NodeLock lock({}, path, {});  // what is taken so far: released on a failure
  for (const auto& step : steps_for(path, scope)) {
    auto fd = open_lock_file(step.path);
    if (!fd) return fd.error();
    lock.fds_.push_back(*fd);
    lock.files_.push_back(step.path);
    if (auto st = take(*fd, step, rules); !st) return st.error();
    const std::string text = step.op == LOCK_SH ? std::string(kSharedText) : who;
    if (auto st = write_holder(*fd, step.path, text + "\n"); !st) return st.error();
  }
  return lock;
}

void NodeLock::release() {
  for (int fd : fds_) ::close(fd);
  fds_.clear();
}

NodeLock::NodeLock(NodeLock&& other) noexcept
    : fds_(std::move(other.fds_)), path_(std::move(other.path_)), files_(std::move(other.files_)) {
  other.fds_.clear();
}

NodeLock& NodeLock::operator=(NodeLock&& other) noexcept {
  if (this != &other) {
    release();
    fds_ = std::move(other.fds_);
    path_ = std::move(other.path_);
    files_ = std::move(other.files_);
    other.fds_.clear();
  }
  return *this;
}

NodeLock::~NodeLock() { release(); }

}  // namespace jouleperf
