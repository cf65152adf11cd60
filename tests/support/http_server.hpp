// A minimal HTTP/1.1 server for tests, on 127.0.0.1 and an ephemeral port. One thread
// accepts; each connection is served by its own thread, with keep-alive. A handler
// either returns a whole reply (status, headers, body) or, in raw mode, writes to the
// connection itself: streamed chunks, server-sent events, half answers, resets. That
// makes it the base for misbehaving servers too (a flaky exporter, a streaming
// OpenAI-compatible endpoint that stalls or cuts off mid-stream).
//
// Limits (it is a test fixture): request bodies need Content-Length (chunked request
// bodies get 501), request heads are capped at 64 KiB, HTTP/1.0 connections close after
// one request. The destructor stops the server: it wakes and joins every thread, so a
// handler that blocks on the test (e.g. to provoke a client timeout) must be released
// before the server is destroyed; raw handlers that stream should poll stopping().
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace jouleperf::testing {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;   // "GET", "POST", ...
  std::string target;   // as sent: "/metrics?x=1"
  std::string version;  // "HTTP/1.1"
  HttpHeaders headers;  // as received, in order
  std::string body;
  std::uint64_t connection = 0;  // 1-based number of the connection it came on
  std::uint64_t index = 0;       // 1-based number of the request across the whole server

  // Value of the first header called `name` (case-insensitive), if any.
  std::optional<std::string> header(std::string_view name) const;
  // target without the query string.
  std::string path() const;
};

struct HttpReply {
  int status = 200;
  std::string content_type = "text/plain; version=0.0.4; charset=utf-8";
  HttpHeaders headers;  // extra headers
  std::string body;
  bool reset = false;        // abort the connection (TCP RST) instead of answering
  bool close_after = false;  // answer with "Connection: close", then close
};

// The connection a raw handler talks to.
class HttpConnection {
 public:
  // Sends raw bytes; false once the peer is gone (or after reset()).
  bool send(std::string_view bytes);
  // Sends a status line and headers and the blank line that ends them.
  bool send_head(int status, const HttpHeaders& headers);
  // Sends one chunk of a "Transfer-Encoding: chunked" body; an empty `data` sends the
  // terminating zero-length chunk.
  bool send_chunk(std::string_view data);
  // Aborts the connection with a TCP RST; nothing more can be sent.
  void reset();
  // Closes the connection once the handler returns (no further requests on it).
  void close_after() { close_after_ = true; }
  // True once the server is stopping: a streaming handler should return soon.
  bool stopping() const;

 private:
  friend class HttpServer;
  HttpConnection(class HttpServer& server, int fd) : server_(server), fd_(fd) {}
  HttpServer& server_;
  int fd_;
  bool close_after_ = false;
  bool reset_ = false;
  bool broken_ = false;
};

class HttpServer {
 public:
  using Handler = std::function<HttpReply(const HttpRequest&)>;
  using RawHandler = std::function<void(const HttpRequest&, HttpConnection&)>;
  struct Raw {};

  // Listens on 127.0.0.1:<ephemeral> and starts serving. Throws std::runtime_error when
  // it cannot listen. A handler that throws answers 500 with the exception's message.
  explicit HttpServer(Handler handler);
  HttpServer(Raw, RawHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Stops accepting, wakes and joins every connection thread. Idempotent.
  void stop();

  std::uint16_t port() const { return port_; }
  // "http://127.0.0.1:<port>" + path.
  std::string url(std::string_view path = "/metrics") const;
  std::uint64_t connections() const { return connections_.load(); }  // accepted so far
  std::uint64_t requests() const { return requests_.load(); }        // parsed so far

  // A port on 127.0.0.1 that nothing listens on (bound and released; connecting to it
  // is refused unless something else grabs it in between, which tests may ignore).
  static std::uint16_t closed_port();

 private:
  friend class HttpConnection;
  struct Conn {
    int fd = -1;  // -1 once closed; guarded by mu_
    std::thread thread;
  };
  void start();
  void accept_loop();
  void serve(std::size_t slot, std::uint64_t conn_no);
  void close_slot(std::size_t slot, bool rst);
  // Waits until fd is readable or the server stops; false on stop or error.
  bool wait_readable(int fd) const;

  RawHandler handler_;
  int listen_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: readable once stop() was called
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> connections_{0};
  std::atomic<std::uint64_t> requests_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Conn>> conns_;
  bool stopped_ = false;
};

}  // namespace jouleperf::testing
