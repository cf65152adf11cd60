// HttpClient against the local test server (tests/support/http_server), which is
// exercised here too: keep-alive, statuses, resets, streaming, timeouts.
#include "jouleperf/core/http.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "support/http_server.hpp"

namespace jouleperf {
namespace {

using testing::HttpConnection;
using testing::HttpReply;
using testing::HttpRequest;
using testing::HttpServer;

std::unique_ptr<HttpClient> client(const std::string& url, HttpOptions o = {}) {
  auto c = HttpClient::open(url, std::move(o));
  EXPECT_TRUE(c.ok()) << c.error().to_string();
  return std::move(c).value();
}

TEST(Http, GetReturnsBodyAndReusesTheConnection) {
  HttpServer server([](const HttpRequest& req) {
    HttpReply r;
    r.body = "hello " + req.path() + " #" + std::to_string(req.index);
    return r;
  });
  HttpOptions o;
  o.headers = {"Accept: text/plain;version=0.0.4", "X-Test: 1"};
  auto c = client(server.url("/metrics"), o);
  for (int i = 1; i <= 3; ++i) {
    auto r = c->get();
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "hello /metrics #" + std::to_string(i));
    EXPECT_EQ(r->content_type, "text/plain; version=0.0.4; charset=utf-8");
  }
  EXPECT_EQ(server.connections(), 1u);  // keep-alive
  EXPECT_EQ(server.requests(), 3u);
  EXPECT_EQ(c->url(), server.url("/metrics"));
}

TEST(Http, SendsHeaders) {
  std::mutex mu;
  std::string accept, custom;
  HttpServer server([&](const HttpRequest& req) {
    std::lock_guard<std::mutex> lock(mu);
    accept = req.header("accept").value_or("");
    custom = req.header("X-Test").value_or("");
    return HttpReply{};
  });
  HttpOptions o;
  o.headers = {"Accept: text/plain;version=0.0.4", "X-Test: 42"};
  ASSERT_TRUE(client(server.url(), o)->get().ok());
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(accept, "text/plain;version=0.0.4");
  EXPECT_EQ(custom, "42");
}

TEST(Http, StatusAtOrAbove400IsNetworkErrorWithStatus) {
  HttpServer server([](const HttpRequest&) {
    HttpReply r;
    r.status = 500;
    r.body = "collector failed\nsecond line";
    return r;
  });
  auto r = client(server.url())->get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kNetwork);
  EXPECT_EQ(r.error().message, "GET " + server.url() + ": HTTP 500: collector failed");
}

TEST(Http, RedirectIsNotFollowedByDefault) {
  HttpServer server([](const HttpRequest& req) {
    HttpReply r;
    if (req.path() == "/old") {
      r.status = 301;
      r.headers.emplace_back("Location", "/metrics");
    } else {
      r.body = "moved here";
    }
    return r;
  });
  auto r = client(server.url("/old"))->get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kNetwork);
  EXPECT_NE(r.error().message.find("HTTP 301 redirect to " + server.url("/metrics")), std::string::npos)
      << r.error().message;

  HttpOptions follow;
  follow.follow_redirects = true;
  auto f = client(server.url("/old"), follow)->get();
  ASSERT_TRUE(f.ok()) << f.error().to_string();
  EXPECT_EQ(f->body, "moved here");
}

TEST(Http, RefusedConnectionNamesTheUrl) {
  const std::string url = "http://127.0.0.1:" + std::to_string(HttpServer::closed_port()) + "/metrics";
  auto r = client(url)->get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kNetwork);
  EXPECT_EQ(r.error().message.rfind("GET " + url + ": ", 0), 0u) << r.error().message;
  EXPECT_NE(r.error().message.find("connect"), std::string::npos) << r.error().message;
}

TEST(Http, AbruptCloseIsNetworkError) {
  HttpServer server([](const HttpRequest&) {
    HttpReply r;
    r.reset = true;
    return r;
  });
  auto r = client(server.url())->get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kNetwork);
}

TEST(Http, NoAnswerInTimeIsTimeout) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  HttpServer server([&](const HttpRequest&) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return release; });
    return HttpReply{};
  });
  HttpOptions o;
  o.timeout_s = 0.2;
  auto r = client(server.url(), o)->get();
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kTimeout);
  EXPECT_NE(r.error().message.find("0.2 s"), std::string::npos) << r.error().message;
}

TEST(Http, BodyLimit) {
  HttpServer server([](const HttpRequest&) {
    HttpReply r;
    r.body = std::string(10000, 'x');
    return r;
  });
  HttpOptions o;
  o.max_body_bytes = 1000;
  auto r = client(server.url(), o)->get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kNetwork);
  EXPECT_NE(r.error().message.find("larger than 1000 bytes"), std::string::npos);
}

TEST(Http, ChunkedStreamFromRawHandler) {
  HttpServer server(HttpServer::Raw{}, [](const HttpRequest&, HttpConnection& conn) {
    conn.send_head(200, {{"Content-Type", "text/event-stream"}, {"Transfer-Encoding", "chunked"}});
    for (int i = 0; i < 3; ++i) conn.send_chunk("data: " + std::to_string(i) + "\n\n");
    conn.send_chunk("");
  });
  auto c = client(server.url("/v1/completions"));
  auto r = c->get();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->body, "data: 0\n\ndata: 1\n\ndata: 2\n\n");
  EXPECT_EQ(r->content_type, "text/event-stream");
  ASSERT_TRUE(c->get().ok());  // the chunked answer left the connection reusable
  EXPECT_EQ(server.connections(), 1u);
}

TEST(Http, StreamCutOffMidwayIsNetworkError) {
  HttpServer server(HttpServer::Raw{}, [](const HttpRequest&, HttpConnection& conn) {
    conn.send_head(200, {{"Transfer-Encoding", "chunked"}});
    conn.send_chunk("partial");
    conn.reset();
  });
  auto r = client(server.url())->get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kNetwork);
}

TEST(Http, CloseAfterMakesANewConnectionPerRequest) {
  HttpServer server([](const HttpRequest&) {
    HttpReply r;
    r.body = "x";
    r.close_after = true;
    return r;
  });
  auto c = client(server.url());
  ASSERT_TRUE(c->get().ok());
  ASSERT_TRUE(c->get().ok());
  EXPECT_EQ(server.connections(), 2u);
}

TEST(Http, InvalidUrlsAndOptions) {
  EXPECT_EQ(HttpClient::open("").error().code, Errc::kInvalidArgument);
  EXPECT_EQ(HttpClient::open("ftp://host/x").error().code, Errc::kInvalidArgument);
  HttpOptions o;
  o.timeout_s = 0;
  EXPECT_EQ(HttpClient::open("http://127.0.0.1/", o).error().code, Errc::kInvalidArgument);
  auto bad = HttpClient::open("http://[::1/metrics");  // malformed, found at request time
  ASSERT_TRUE(bad.ok());
  auto r = (*bad)->get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
}

}  // namespace
}  // namespace jouleperf
