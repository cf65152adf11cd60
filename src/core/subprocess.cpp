#include "jouleperf/core/subprocess.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace jouleperf {

namespace {

struct Pipe {
  int fd[2] = {-1, -1};
  ~Pipe() {
    for (int f : fd)
      if (f >= 0) ::close(f);
  }
  void close_end(int i) {
    if (fd[i] >= 0) ::close(fd[i]);
    fd[i] = -1;
  }
};

// Reads both pipes until both reach end of file (poll, so neither can fill and block the child).
void drain(Pipe& out, Pipe& err, ProcessOutput& r) {
  std::string* sinks[2] = {&r.out, &r.err};
  Pipe* pipes[2] = {&out, &err};
  char buf[4096];
  while (pipes[0]->fd[0] >= 0 || pipes[1]->fd[0] >= 0) {
    pollfd p[2];
    for (int i = 0; i < 2; ++i) p[i] = {pipes[i]->fd[0], POLLIN, 0};
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    for (int i = 0; i < 2; ++i) {
      if (p[i].fd < 0 || (p[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      const ssize_t n = ::read(p[i].fd, buf, sizeof buf);
      if (n > 0)
        sinks[i]->append(buf, static_cast<std::size_t>(n));
      else if (n == 0 || errno != EINTR)
        pipes[i]->close_end(0);
    }
  }
}

}  // namespace

Result<ProcessOutput> run_process(const std::vector<std::string>& argv) {
  if (argv.empty() || argv[0].empty()) return make_error(Errc::kInvalidArgument, "run_process: no program");
  Pipe out, err;
  if (::pipe2(out.fd, O_CLOEXEC) != 0 || ::pipe2(err.fd, O_CLOEXEC) != 0)
    return make_error(Errc::kIo, fmt::format("{}: pipe: {}", argv[0], std::strerror(errno)));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out.fd[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err.fd[1], 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawnp(&pid, argv[0].c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0)
    return make_error(
        rc == ENOENT || rc == EACCES ? Errc::kNotFound : Errc::kIo,
        fmt::format("{}: cannot run it: {}{}", argv[0], std::strerror(rc), rc == ENOENT ? " (not found in PATH)" : ""));
  out.close_end(1);
  err.close_end(1);
  ProcessOutput r;
  drain(out, err, r);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return make_error(Errc::kIo, fmt::format("{}: waitpid: {}", argv[0], std::strerror(errno)));
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

}  // namespace jouleperf
