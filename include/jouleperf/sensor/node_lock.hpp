// One measuring process per node (docs/cluster.md, "One meter per node"): node-wide
// sensors (RAPL, NVML over every GPU, the CPU-time model, a node exporter) read by two
// shards at once would count the node's energy twice, each shard's cells taking the
// other's work. A shard holds an exclusive lock on a file (flock(2); by default
// /run/jouleperf/node.lock) while it measures; a second shard on the node waits for it.
// (A shard restricted to its own GPUs, CUDA_VISIBLE_DEVICES mapped to NVML indices, is
// not built yet: docs/cluster.md.)
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "jouleperf/core/result.hpp"

namespace jouleperf {

class NodeLock {
 public:
  // The default lock file: /run/jouleperf/node.lock as root (/run is per node, never on
  // NFS), else /tmp/jouleperf-node.lock.
  static std::string default_path();

  // Takes the lock on `path` (its directory created, mode 0755), writing `who` (e.g.
  // "pid 1234, shard 1/4") into the file for whoever waits. When another process holds
  // it: calls `on_wait` once with the holder's text, then waits up to `wait_s` seconds
  // (nullopt: as long as it takes). Fails with kTimeout naming the holder when the wait
  // ends, kPermissionDenied / kIo (with the path and what to do) when the file cannot be
  // made or opened.
  static Result<NodeLock> acquire(const std::string& path, const std::string& who, std::optional<double> wait_s,
                                  const std::function<void(std::string_view holder)>& on_wait = {});

  NodeLock(NodeLock&& other) noexcept;
  NodeLock& operator=(NodeLock&& other) noexcept;
  NodeLock(const NodeLock&) = delete;
  NodeLock& operator=(const NodeLock&) = delete;
  ~NodeLock();  // releases (closing the file releases the flock)

  const std::string& path() const { return path_; }

 private:
  NodeLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

}  // namespace jouleperf
