// One measuring process per node, or per GPU (docs/cluster.md, "One meter per node"):
// node-wide sensors (RAPL, NVML over every GPU, the CPU-time model, a node exporter) read
// by two shards at once would count the node's energy twice, each shard's cells taking
// the other's work. A shard that reads them holds an exclusive lock on a file (flock(2);
// by default /run/jouleperf/node.lock) while it measures; a second shard on the node waits.
// A shard whose only sensors are its own GPUs (NVML restricted by CUDA_VISIBLE_DEVICES)
// holds the node lock shared and one exclusive lock per GPU, on files beside it
// ("node.lock.GPU-<uuid>"): shards with disjoint GPU sets measure at once, one that
// shares a GPU with another waits for it, and a node-wide shard waits for them all (and
// they for it).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jouleperf/core/result.hpp"
#include "jouleperf/sensor/sensor.hpp"

namespace jouleperf {

// What a measuring process locks.
struct NodeLockScope {
  // Empty: the whole node (the node lock exclusive). Else the ids of the GPUs it measures
  // ("GPU-<uuid>", or "gpu-<N>" with N the NVML index when the UUID is unknown): the node
  // lock shared, and "<node lock>.<id>" exclusive for each.
  std::vector<std::string> gpus;
  bool whole_node() const { return gpus.empty(); }
};

// The scope for the sensors a process opened: its GPUs when `gpus_restricted` (NVML was
// given CUDA_VISIBLE_DEVICES) and every sensor is an NVML GPU (name "nvml", domain
// "gpu:N"); else the whole node. Never fails.
NodeLockScope node_lock_scope(const std::vector<SensorInfo>& sensors, bool gpus_restricted);

// Someone else holds a lock this process waits for.
struct NodeLockWait {
  std::string what;    // "the node" or "GPU GPU-<uuid>"
  std::string holder;  // what the holder wrote: "pid 1234, shard 0/4, store results-0.db"; for
                       // the node held shared, the GPU holders: "GPU-...: pid ..., GPU-...: ..."
  std::string path;    // the lock file waited for
};

class NodeLock {
 public:
  // The default lock file: /run/jouleperf/node.lock as root (/run is per node, never on
  // NFS), else /tmp/jouleperf-node.lock.
  static std::string default_path();

  // Takes the locks of `scope` on `path` (its directory created, mode 0755): the node
  // lock exclusive for the whole node; else the node lock shared, then each GPU's lock
  // exclusive in sorted order (so two processes never wait for each other). Writes `who`
  // (e.g. "pid 1234, shard 1/4") into each file it holds exclusively, for whoever waits.
  // When another process holds a lock: calls `on_wait` once per lock waited for, with the
  // holder, then waits; `wait_s` bounds the whole wait in seconds (nullopt: as long as it
  // takes). Fails with kTimeout naming the holder when the wait ends, kPermissionDenied /
  // kIo (with the path and what to do) when a file cannot be made or opened; nothing is
  // held after a failure.
  static Result<NodeLock> acquire(const std::string& path, const NodeLockScope& scope, const std::string& who,
                                  std::optional<double> wait_s,
                                  const std::function<void(const NodeLockWait&)>& on_wait = {});
  // The whole node (scope empty), as above.
  static Result<NodeLock> acquire(const std::string& path, const std::string& who, std::optional<double> wait_s,
                                  const std::function<void(const NodeLockWait&)>& on_wait = {});

  NodeLock(NodeLock&& other) noexcept;
  NodeLock& operator=(NodeLock&& other) noexcept;
  NodeLock(const NodeLock&) = delete;
  NodeLock& operator=(const NodeLock&) = delete;
  ~NodeLock();  // releases (closing the files releases the flocks)

  const std::string& path() const { return path_; }
  // The files held, the node lock first, then the GPUs' locks in order.
  const std::vector<std::string>& files() const { return files_; }

 private:
  NodeLock(std::vector<int> fds, std::string path, std::vector<std::string> files)
      : fds_(std::move(fds)), path_(std::move(path)), files_(std::move(files)) {}
  void release();
  std::vector<int> fds_;
  std::string path_;
  std::vector<std::string> files_;
};

}  // namespace jouleperf
