// How well the open-loop generator (run_open_loop) holds a Poisson schedule against a
// minimal local streaming server: send lateness p50/p99/max per offered rate, and the
// highest rate whose p99 lateness stays under a bound (1 ms by default). The issue-5
// claim is 2,000 requests/s with p99 < 1 ms; docs/performance.md, "Open-loop load
// generator", records the figures and the commands.
//
// A plain program, not Google Benchmark: the measured quantity is a distribution of
// lateness over a timed schedule (each "iteration" is a whole run of several seconds
// whose result is a set of percentiles, and the sweep stops at the first rates that
// fail), which Google Benchmark's repeat-until-stable timing model does not fit.
//
// Lateness = send_s - scheduled_s, where send_s is when libcurl has written the
// request's head to the socket (its CURLINFO_HEADER_OUT debug callback, called right
// after the send()); see OpenAiResult::send_s.
//
// The server (--serve, or forked by default) is one thread on epoll: keep-alive
// HTTP/1.1, and for each POST a chunked text/event-stream answer of max_tokens token
// events, a usage event and [DONE], written with one send(). It parses only what it
// needs (Content-Length, "max_tokens", the prompt array's length).
//
//   loadgen_bench [--server process|thread|URL] [--rates 500,1000,2000] [--duration 3]
//                 [--warmup 0.5] [--tokens 4] [--input 8] [--bound-ms 1] [--seed 1]
//   loadgen_bench --serve [--port 0]     (prints "port N", serves until killed)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "jouleperf/engine/loadgen.hpp"

namespace {

using namespace jouleperf;

// ---- the minimal streaming server -------------------------------------------------

struct ServerConn {
  std::string in;
  std::string out;
};

std::size_t find_count(const std::string& body, const char* key, std::size_t fallback) {
  const std::size_t k = body.find(key);
  if (k == std::string::npos) return fallback;
  std::size_t p = body.find(':', k);
  if (p == std::string::npos) return fallback;
  return static_cast<std::size_t>(std::strtoull(body.c_str() + p + 1, nullptr, 10));
}

std::size_t prompt_length(const std::string& body) {
  const std::size_t k = body.find("\"prompt\":[");
  if (k == std::string::npos) return 7;
  const std::size_t end = body.find(']', k);
  std::size_t n = 1;
  for (std::size_t i = k; i < end; ++i) n += body[i] == ',' ? 1 : 0;
  return n;
}

void append_chunk(std::string& out, const std::string& data) {
  char hex[32];
  std::snprintf(hex, sizeof hex, "%zx\r\n", data.size());
  out += hex;
  out += data;
  out += "\r\n";
}

// Appends the whole answer to one request body.
void answer(const std::string& body, std::string& out) {
  const std::size_t n = find_count(body, "\"max_tokens\"", 1);
  const std::size_t prompt = prompt_length(body);
  out += "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (std::size_t i = 0; i < n; ++i)
    append_chunk(
        out, "data: {\"choices\":[{\"index\":0,\"text\":\"t" + std::to_string(i) + "\",\"finish_reason\":null}]}\n\n");
  append_chunk(out,
               "data: {\"choices\":[{\"index\":0,\"text\":\"\",\"finish_reason\":\"length\"}],\"usage\":{"
               "\"prompt_tokens\":" +
                   std::to_string(prompt) + ",\"completion_tokens\":" + std::to_string(n) +
                   ",\"total_tokens\":" + std::to_string(prompt + n) + "}}\n\n");
  append_chunk(out, "data: [DONE]\n\n");
  out += "0\r\n\r\n";
}

// Consumes every complete request in c.in; false on a malformed head.
bool handle_input(ServerConn& c) {
  for (;;) {
    const std::size_t head_end = c.in.find("\r\n\r\n");
    if (head_end == std::string::npos) return c.in.size() < 65536;
    std::size_t length = 0;
    const std::string head = c.in.substr(0, head_end);
    for (const char* name : {"Content-Length:", "content-length:"}) {
      const std::size_t p = head.find(name);
      if (p != std::string::npos) length = std::strtoull(head.c_str() + p + std::strlen(name), nullptr, 10);
    }
    if (c.in.size() < head_end + 4 + length) return true;
    answer(c.in.substr(head_end + 4, length), c.out);
    c.in.erase(0, head_end + 4 + length);
  }
}

int listen_on(std::uint16_t port, std::uint16_t& bound) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 1024) != 0) {
    std::perror("bind/listen 127.0.0.1");
    std::exit(1);
  }
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  bound = ntohs(a.sin_port);
  return fd;
}

// Serves on listen_fd until *stop (checked every 50 ms).
void serve(int listen_fd, const std::atomic<bool>* stop) {
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = listen_fd;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd, &ev);
  std::unordered_map<int, ServerConn> conns;
  std::vector<epoll_event> evs(256);
  char buf[65536];
  auto drop = [&](int fd) {
    ::epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    conns.erase(fd);
  };
  while (stop == nullptr || !stop->load()) {
    const int n = ::epoll_wait(ep, evs.data(), static_cast<int>(evs.size()), 50);
    for (int i = 0; i < n; ++i) {
      const int fd = evs[i].data.fd;
      if (fd == listen_fd) {
        for (;;) {
          const int c = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (c < 0) break;
          int one = 1;
          ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          epoll_event ce{};
          ce.events = EPOLLIN;
          ce.data.fd = c;
          ::epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
          conns[c];
        }
        continue;
      }
      auto it = conns.find(fd);
      if (it == conns.end()) continue;
      ServerConn& c = it->second;
      bool dead = false;
      if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        for (;;) {
          const ssize_t r = ::recv(fd, buf, sizeof buf, 0);
          if (r > 0) {
            c.in.append(buf, static_cast<std::size_t>(r));
            continue;
          }
          if (r == 0 || (errno != EAGAIN && errno != EINTR)) dead = true;
          break;
        }
        if (!dead && !handle_input(c)) dead = true;
      }
      if (!dead && !c.out.empty()) {
        const ssize_t w = ::send(fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
        if (w > 0) c.out.erase(0, static_cast<std::size_t>(w));
        if (w < 0 && errno != EAGAIN) dead = true;
        epoll_event ce{};
        ce.events = EPOLLIN | (c.out.empty() ? 0u : static_cast<unsigned>(EPOLLOUT));
        ce.data.fd = fd;
        if (!dead) ::epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ce);
      }
      if (dead) drop(fd);
    }
  }
  for (auto& [fd, c] : conns) ::close(fd);
  ::close(ep);
}

// ---- the client side -------------------------------------------------------------

struct Options {
  std::string server = "process";
  std::vector<double> rates = {500, 1000, 1500, 2000, 2500, 3000, 4000, 6000, 8000};
  double duration_s = 3.0;
  double warmup_s = 0.5;
  std::uint64_t tokens = 4;
  std::uint64_t input = 8;
  double bound_s = 0.001;
  std::uint64_t seed = 1;
  bool serve_only = false;
  std::uint16_t port = 0;
};

std::string load_average() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

double thread_cpu_s() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

std::vector<ScheduledRequest> poisson(double rate, double duration_s, const Options& o, std::uint64_t salt) {
  std::mt19937_64 rng(o.seed * 1000003 + salt);
  std::exponential_distribution<double> gap(rate);
  std::vector<ScheduledRequest> s;
  double t = 0;
  while ((t += gap(rng)) < duration_s) s.push_back({t, o.input, o.tokens});
  return s;
}

struct RateResult {
  double rate = 0;
  LoadgenSummary sum;
  double cpu_s = 0;
  double span_s = 0;  // schedule length
  std::string load;
};

Result<RateResult> run_rate(const std::string& url, double rate, const Options& o) {
  OpenAiConfig cfg;
  cfg.url = url;
  cfg.timeout_s = 10;
  auto client = OpenAiClient::open(cfg);
  if (!client) return client.error();
  SteadyClock clock;
  LoadgenOptions lo;
  lo.seed = o.seed;
  if (o.warmup_s > 0) {  // opens the connections the rate needs; not measured
    const auto w = poisson(rate, o.warmup_s, o, 1);
    if (!w.empty())
      if (auto r = run_open_loop(**client, w, lo, clock, nullptr); !r) return r.error();
  }
  const auto sched = poisson(rate, o.duration_s, o, 2);
  RateResult out;
  out.rate = rate;
  out.load = load_average();
  out.span_s = sched.empty() ? 0 : sched.back().at_s;
  const double cpu0 = thread_cpu_s();
  auto run = run_open_loop(**client, sched, lo, clock, nullptr);
  out.cpu_s = thread_cpu_s() - cpu0;
  if (!run) return run.error();
  out.sum = summarize_load(*run, {});
  return out;
}

std::vector<double> parse_list(const std::string& s) {
  std::vector<double> v;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) v.push_back(std::strtod(item.c_str(), nullptr));
  return v;
}

int usage() {
  std::fprintf(stderr,
               "usage: loadgen_bench [--server process|thread|URL] [--rates R1,R2,...] [--duration S]\n"
               "                     [--warmup S] [--tokens O] [--input I] [--bound-ms MS] [--seed N]\n"
               "       loadgen_bench --serve [--port P]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) std::exit(usage());
      return argv[++i];
    };
    if (a == "--server")
      o.server = val();
    else if (a == "--rates")
      o.rates = parse_list(val());
    else if (a == "--duration")
      o.duration_s = std::strtod(val().c_str(), nullptr);
    else if (a == "--warmup")
      o.warmup_s = std::strtod(val().c_str(), nullptr);
    else if (a == "--tokens")
      o.tokens = std::strtoull(val().c_str(), nullptr, 10);
    else if (a == "--input")
      o.input = std::strtoull(val().c_str(), nullptr, 10);
    else if (a == "--bound-ms")
      o.bound_s = std::strtod(val().c_str(), nullptr) * 1e-3;
    else if (a == "--seed")
      o.seed = std::strtoull(val().c_str(), nullptr, 10);
    else if (a == "--serve")
      o.serve_only = true;
    else if (a == "--port")
      o.port = static_cast<std::uint16_t>(std::strtoul(val().c_str(), nullptr, 10));
    else
      return usage();
  }
  if (o.rates.empty() || !(o.duration_s > 0) || o.tokens == 0 || o.input == 0) return usage();

  if (o.serve_only) {
    std::uint16_t port = 0;
    const int fd = listen_on(o.port, port);
    std::printf("port %u\n", port);
    std::fflush(stdout);
    serve(fd, nullptr);
    return 0;
  }

  std::string url = o.server;
  pid_t child = -1;
  std::atomic<bool> stop{false};
  std::thread server_thread;
  if (o.server == "process" || o.server == "thread") {
    std::uint16_t port = 0;
    const int fd = listen_on(0, port);
    url = "http://127.0.0.1:" + std::to_string(port);
    if (o.server == "process") {
      child = ::fork();  // before any thread exists
      if (child == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        serve(fd, nullptr);
        std::_Exit(0);
      }
      ::close(fd);
    } else {
      server_thread = std::thread([fd, &stop] {
        serve(fd, &stop);
        ::close(fd);
      });
    }
  }
  std::printf("# loadgen_bench: server %s (%s), Poisson, %.1f s per rate after %.1f s warm-up, I=%llu O=%llu\n",
              o.server.c_str(), url.c_str(), o.duration_s, o.warmup_s, static_cast<unsigned long long>(o.input),
              static_cast<unsigned long long>(o.tokens));
  std::printf("# lateness = send (request head written to the socket) - scheduled time; bound p99 < %.3f ms\n",
              o.bound_s * 1e3);
  std::printf("%8s %7s %6s %6s %10s %10s %10s %10s %8s %6s  %s\n", "rate", "sent", "ok", "failed", "p50_us", "p99_us",
              "max_us", "e2e_p50_us", "cpu_pct", "held", "loadavg");
  double best = 0, best_run = 0;  // any rate held; the top of the run of held rates from the lowest
  int misses = 0;
  bool missed_any = false;
  int rc = 0;
  for (double rate : o.rates) {
    auto r = run_rate(url, rate, o);
    if (!r) {
      std::fprintf(stderr, "rate %.0f: %s\n", rate, r.error().to_string().c_str());
      rc = 1;
      break;
    }
    const auto& s = r->sum;
    const bool held = s.failed == 0 && s.lateness_s.p99 < o.bound_s;
    std::printf("%8.0f %7zu %6zu %6zu %10.1f %10.1f %10.1f %10.1f %7.1f%% %6s  %s\n", rate, s.requests, s.ok, s.failed,
                s.lateness_s.p50 * 1e6, s.lateness_s.p99 * 1e6, s.lateness_s.max * 1e6, s.e2e_s.p50 * 1e6,
                r->span_s > 0 ? 100.0 * r->cpu_s / r->span_s : 0.0, held ? "yes" : "no", r->load.c_str());
    std::fflush(stdout);
    if (held) {
      best = std::max(best, rate);
      if (!missed_any) best_run = std::max(best_run, rate);
      misses = 0;
    } else if (missed_any = true; ++misses >= 2) {
      break;  // two rates in a row missed: higher ones will too
    }
  }
  std::printf(
      "highest rate held (p99 lateness < %.3f ms, no failures): %.0f requests/s (%.0f with every lower rate "
      "held too)\n",
      o.bound_s * 1e3, best, best_run);
  if (child > 0) {
    ::kill(child, SIGTERM);
    ::waitpid(child, nullptr, 0);
  }
  if (server_thread.joinable()) {
    stop = true;
    server_thread.join();
  }
  return rc;
}
