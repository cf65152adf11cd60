#include "support/http_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <stdexcept>

namespace jouleperf::testing {

namespace {

constexpr std::size_t kMaxHead = 64 * 1024;

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

const char* reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 411: return "Length Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

// Parses a request head (without the final blank line). False if malformed.
bool parse_head(std::string_view head, HttpRequest& req) {
  std::size_t eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos) return false;
  req.method = std::string(line.substr(0, sp1));
  req.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
  req.version = std::string(line.substr(sp2 + 1));
  if (req.method.empty() || req.target.empty() || req.version.rfind("HTTP/", 0) != 0) return false;
  while (eol != std::string_view::npos) {
    const std::size_t b = eol + 2;
    eol = head.find("\r\n", b);
    line = head.substr(b, eol == std::string_view::npos ? std::string_view::npos : eol - b);
    if (line.empty()) continue;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    req.headers.emplace_back(std::string(line.substr(0, colon)), std::string(trim_ows(line.substr(colon + 1))));
  }
  return true;
}

std::string format_head(int status, const HttpHeaders& headers) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status) + "\r\n";
  for (const auto& [k, v] : headers) out += k + ": " + v + "\r\n";
  out += "\r\n";
  return out;
}

}  // namespace

std::optional<std::string> HttpRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return std::nullopt;
}

std::string HttpRequest::path() const { return target.substr(0, target.find('?')); }

bool HttpConnection::send(std::string_view bytes) {
  if (broken_ || reset_) return false;
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      broken_ = true;
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool HttpConnection::send_head(int status, const HttpHeaders& headers) { return send(format_head(status, headers)); }

bool HttpConnection::send_chunk(std::string_view data) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  std::string out = size;
  out.append(data);
  out += "\r\n";
  return send(out);
}

void HttpConnection::reset() {
  if (reset_) return;
  reset_ = true;
  // SO_LINGER with a zero timeout makes close() send RST; the server closes the slot.
  linger lg{1, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
}

bool HttpConnection::stopping() const { return server_.stopping_.load(); }

HttpServer::HttpServer(Handler handler)
    : handler_([h = std::move(handler)](const HttpRequest& req, HttpConnection& conn) {
        HttpReply reply;
        try {
          reply = h(req);
        } catch (const std::exception& e) {
          reply = HttpReply{};
          reply.status = 500;
          reply.body = std::string("handler threw: ") + e.what();
        }
        if (reply.reset) {
          conn.reset();
          return;
        }
        HttpHeaders headers;
        if (!reply.content_type.empty()) headers.emplace_back("Content-Type", reply.content_type);
        headers.emplace_back("Content-Length", std::to_string(reply.body.size()));
        if (reply.close_after) {
          headers.emplace_back("Connection", "close");
          conn.close_after();
        }
        for (const auto& h2 : reply.headers) headers.push_back(h2);
        std::string out = format_head(reply.status, headers);
        if (req.method != "HEAD") out += reply.body;
        conn.send(out);
      }) {
  start();
}

HttpServer::HttpServer(Raw, RawHandler handler) : handler_(std::move(handler)) { start(); }

HttpServer::~HttpServer() { stop(); }

void HttpServer::start() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 64) != 0) {
    const int err = errno;
    ::close(listen_fd_);
    throw std::runtime_error(std::string("bind/listen on 127.0.0.1: ") + std::strerror(err));
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) {
    const int err = errno;
    ::close(listen_fd_);
    throw std::runtime_error(std::string("eventfd: ") + std::strerror(err));
  }
  acceptor_ = std::thread([this] { accept_loop(); });
}

void HttpServer::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  stopping_.store(true);
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t w = ::write(wake_fd_, &one, sizeof one);
  if (acceptor_.joinable()) acceptor_.join();
  {
    // Wake connection threads blocked in recv/send; they close their own fds.
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& c : conns_)
      if (c->fd >= 0) ::shutdown(c->fd, SHUT_RDWR);
  }
  for (auto& c : conns_)
    if (c->thread.joinable()) c->thread.join();
  ::close(listen_fd_);
  ::close(wake_fd_);
}

std::string HttpServer::url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

std::uint16_t HttpServer::closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("bind failed");
  }
  ::close(fd);  // bound but never listened: connecting is refused
  return ntohs(addr.sin_port);
}

bool HttpServer::wait_readable(int fd) const {
  pollfd fds[2] = {{fd, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  for (;;) {
    const int n = ::poll(fds, 2, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (fds[1].revents != 0) return false;
    return fds[0].revents != 0;
  }
}

void HttpServer::accept_loop() {
  while (wait_readable(listen_fd_)) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    const std::uint64_t conn_no = connections_.fetch_add(1) + 1;
    std::lock_guard<std::mutex> lock(mu_);
    conns_.push_back(std::make_unique<Conn>());
    const std::size_t slot = conns_.size() - 1;
    conns_[slot]->fd = fd;
    conns_[slot]->thread = std::thread([this, slot, conn_no] { serve(slot, conn_no); });
  }
}

void HttpServer::close_slot(std::size_t slot, bool rst) {
  std::lock_guard<std::mutex> lock(mu_);
  Conn& c = *conns_[slot];
  if (c.fd < 0) return;
  if (!rst) ::shutdown(c.fd, SHUT_WR);  // orderly FIN before close
  ::close(c.fd);
  c.fd = -1;
}

void HttpServer::serve(std::size_t slot, std::uint64_t conn_no) {
  int fd;
  {
    std::lock_guard<std::mutex> lock(mu_);
    fd = conns_[slot]->fd;
  }
  std::string buf;
  bool rst = false;
  for (;;) {
    // Read one request head.
    std::size_t head_end;
    while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
      if (buf.size() > kMaxHead) {
        HttpConnection(*this, fd).send(format_head(431, {{"Content-Length", "0"}, {"Connection", "close"}}));
        close_slot(slot, false);
        return;
      }
      if (!wait_readable(fd)) {
        close_slot(slot, false);
        return;
      }
      char tmp[8192];
      const ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
      if (n <= 0) {
        close_slot(slot, false);
        return;
      }
      buf.append(tmp, static_cast<std::size_t>(n));
    }
    HttpRequest req;
    const bool ok = parse_head(std::string_view(buf).substr(0, head_end), req);
    buf.erase(0, head_end + 4);
    HttpConnection conn(*this, fd);
    if (!ok) {
      conn.send(format_head(400, {{"Content-Length", "0"}, {"Connection", "close"}}));
      close_slot(slot, false);
      return;
    }
    if (auto te = req.header("Transfer-Encoding"); te && !iequals(*te, "identity")) {
      conn.send(format_head(501, {{"Content-Length", "0"}, {"Connection", "close"}}));
      close_slot(slot, false);
      return;
    }
    std::size_t content_length = 0;
    if (auto cl = req.header("Content-Length")) {
      try {
        content_length = static_cast<std::size_t>(std::stoull(*cl));
      } catch (const std::exception&) {
        conn.send(format_head(400, {{"Content-Length", "0"}, {"Connection", "close"}}));
        close_slot(slot, false);
        return;
      }
    }
    while (buf.size() < content_length) {
      if (!wait_readable(fd)) {
        close_slot(slot, false);
        return;
      }
      char tmp[8192];
      const ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
      if (n <= 0) {
        close_slot(slot, false);
        return;
      }
      buf.append(tmp, static_cast<std::size_t>(n));
    }
    req.body = buf.substr(0, content_length);
    buf.erase(0, content_length);
    req.connection = conn_no;
    req.index = requests_.fetch_add(1) + 1;

    const auto conn_hdr = req.header("Connection");
    if (req.version == "HTTP/1.0" || (conn_hdr && iequals(*conn_hdr, "close"))) conn.close_after();
    try {
      handler_(req, conn);
    } catch (const std::exception&) {
      conn.reset();  // a raw handler failed mid-answer: the client sees a broken connection
    }
    rst = conn.reset_;
    if (conn.reset_ || conn.close_after_ || conn.broken_ || stopping_.load()) break;
  }
  close_slot(slot, rst);
}

}  // namespace jouleperf::testing
