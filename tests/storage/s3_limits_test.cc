// An S3 store that misbehaves can cost time and memory, never a hang or an unbounded buffer:
// against servers on loopback that accept and go silent, stall in the middle of a body, or send
// a body without end, every call ends — with Timeout (retried by the pool within its budget) or
// with InvalidArgument naming the body cap (not retried) — as the connection string's limits say.
#include <s3db/client.h>

#include "support/loopback_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace s3db {
namespace {

using namespace std::chrono_literals;

// Only reached when something hangs; no assertion is about how fast a limit fires.
constexpr auto kHangBound = 60s;
constexpr std::string_view kSecret = "s3cr3t-never-shown";

// What a BadServer does with each connection.
enum class Misbehaviour {
  kSilent,            // accepts, never answers
  kStallInBody,       // "200 OK", Content-Length 1000, five bytes of body, then silence
  kEndlessBody,       // `status`, chunked, chunks until the client hangs up
  kAnnouncesHugeBody, // "200 OK", Content-Length 10 GiB, then as much as the client takes
  kServesHello,       // "200 OK" with the 5-byte body "hello" (a well-behaved answer)
};

// An HTTP server on 127.0.0.1 (tests/support/loopback_server.h) that misbehaves `how`.
class BadServer : public testing::LoopbackServer {
 public:
  explicit BadServer(Misbehaviour how, int status = 200) : how_(how), status_(status) { start(); }
  ~BadServer() override { stop(); }

  // A connection string for this server with `params` ("a=1&b=2").
  std::string url(std::string_view params) const { return LoopbackServer::url(kSecret, params); }

 private:
  // Sends up to 1 GiB in 16 KiB pieces (the bound only matters if a cap failed to stop the client).
  static void stream(int fd, bool chunked) {
    const std::string piece(16 * 1024, 'x');
    const std::string chunk = "4000\r\n" + piece + "\r\n";
    for (int i = 0; i < 64 * 1024; ++i) {
      if (!send_all(fd, chunked ? chunk : piece)) return;
    }
  }

  void serve(int fd) override {
    if (how_ == Misbehaviour::kSilent || !read_request_head(fd)) return wait_for_hangup(fd);
    switch (how_) {
      case Misbehaviour::kSilent:
        break;
      case Misbehaviour::kStallInBody:
        send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nContent-Type: application/xml\r\n\r\n<?xml");
        break;
      case Misbehaviour::kEndlessBody:
        if (send_all(fd, "HTTP/1.1 " + std::to_string(status_) +
                             " Whatever\r\nTransfer-Encoding: chunked\r\nContent-Type: application/xml\r\n\r\n")) {
          stream(fd, /*chunked=*/true);
        }
        break;
      case Misbehaviour::kAnnouncesHugeBody:
        if (send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 10737418240\r\n\r\n")) stream(fd, /*chunked=*/false);
        break;
      case Misbehaviour::kServesHello:
        send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nETag: \"5d41402abc4b2a76b9719d911017c592\"\r\n\r\nhello");
        break;
    }
    wait_for_hangup(fd);
  }

  const Misbehaviour how_;
  const int status_;
};

std::shared_ptr<Client> client_for(const std::string& url) {
  ClientOptions o;
  o.pool.backoff.base = 10ms;  // retries soon: the attempts, not the waits, are what is tested
  auto c = Client::open(url, o);
  EXPECT_TRUE(c.ok()) << c.status().to_string();
  return c.ok() ? *c : nullptr;
}

// The outcome of one pool operation, or Internal when it has not ended within the hang bound.
// Whatever it is, its message never shows the secret.
template <class T>
Status outcome(Future<T> f) {
  if (!f.wait_for(kHangBound)) return Status::Internal("test", "the operation never ended");
  auto r = f.get();
  Status s = r.ok() ? Status::OK() : r.status();
  EXPECT_EQ(s.message().find(kSecret), std::string::npos) << "the secret leaked: " << s.to_string();
  return s;
}

enum class Op { kGet, kList };

// Runs one get of "k" or one listing through a Client of `server` opened with `params`.
Status run(const BadServer& server, std::string_view params, Op op) {
  if (server.port() == 0) return Status::Internal("test", "the server did not start");
  auto c = client_for(server.url(params));
  if (!c) return Status::Internal("test", "no client");
  if (op == Op::kGet) return outcome(c->get_async("k"));
  return outcome(c->pool().submit([&c](OpContext& ctx) { return c->storage().list(ListRequest{}, ctx); }));
}

// A server that accepts and never answers: the low-speed limit ends each attempt as Timeout,
// and the pool retries it, once per max_retries — then gives up with Timeout.
TEST(S3Limits, SilentServerTimesOutAtTheLowSpeedLimitAndIsRetried) {
  BadServer server(Misbehaviour::kSilent);
  Status s = run(server, "low_speed_time_s=1&timeout_ms=0&max_retries=1", Op::kList);
  EXPECT_EQ(s.code(), Code::kTimeout) << s.to_string();
  EXPECT_NE(s.message().find("s3 list"), std::string::npos) << s.to_string();
  EXPECT_EQ(server.connections(), 2) << "one attempt and one retry";
}

// Status line and headers, then silence in the middle of the body: the low-speed limit again.
TEST(S3Limits, ServerStallingInTheBodyTimesOut) {
  BadServer server(Misbehaviour::kStallInBody);
  Status s = run(server, "low_speed_time_s=1&timeout_ms=0&max_retries=0", Op::kGet);
  EXPECT_EQ(s.code(), Code::kTimeout) << s.to_string();
  EXPECT_EQ(server.connections(), 1);
}

// With the low-speed check off, the per-attempt timeout alone ends a silent call.
TEST(S3Limits, AttemptTimeoutEndsASilentCall) {
  BadServer server(Misbehaviour::kSilent);
  Status s = run(server, "low_speed_limit=0&timeout_ms=300&max_retries=0", Op::kGet);
  EXPECT_EQ(s.code(), Code::kTimeout) << s.to_string();
}

// A listener whose accept queue is full drops new SYNs, so a connection attempt hangs in
// SYN-SENT: the connect timeout ends it as Timeout.
TEST(S3Limits, ConnectTimeoutEndsAHangingConnect) {
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 0), 0);
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  // Fill the queue (never accepted) until a connect no longer completes.
  std::vector<int> fillers;
  bool full = false;
  for (int i = 0; i < 16 && !full; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    fillers.push_back(fd);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) continue;
    struct pollfd p{fd, POLLOUT, 0};
    full = ::poll(&p, 1, 200) == 0;
  }
  if (full) {
    auto c = client_for("http://AKID:" + std::string(kSecret) + "@127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) +
                        "/bucket?connect_timeout_ms=300&timeout_ms=0&max_retries=0");
    ASSERT_TRUE(c);
    Status s = outcome(c->get_async("k"));
    EXPECT_EQ(s.code(), Code::kTimeout) << s.to_string();
  }
  for (int fd : fillers) ::close(fd);
  ::close(listener);
  if (!full) GTEST_SKIP() << "this kernel completed every connection to a full accept queue";
}

// A listing whose body never ends: cut at max_response_bytes, reported as InvalidArgument naming
// it, and not retried although the pool would retry anything retryable three times.
TEST(S3Limits, EndlessListingIsCutAtMaxResponseBytes) {
  BadServer server(Misbehaviour::kEndlessBody);
  Status s = run(server, "max_response_bytes=65536&max_retries=3", Op::kList);
  EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.to_string();
  EXPECT_NE(s.message().find("65536 bytes (max_response_bytes)"), std::string::npos) << s.to_string();
  EXPECT_EQ(server.connections(), 1) << "a body over its cap must not be retried";
}

// An error answer is small XML even on an object's GET: its body gets the response cap, not the
// object's.
TEST(S3Limits, EndlessErrorBodyOfAGetIsCutAtMaxResponseBytes) {
  BadServer server(Misbehaviour::kEndlessBody, 500);
  Status s = run(server, "max_response_bytes=65536&max_retries=0", Op::kGet);
  EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.to_string();
  EXPECT_NE(s.message().find("(max_response_bytes)"), std::string::npos) << s.to_string();
}

// An object announced bigger than max_object_bytes is refused on its Content-Length.
TEST(S3Limits, ObjectAnnouncedOverMaxObjectBytesIsRefused) {
  BadServer server(Misbehaviour::kAnnouncesHugeBody);
  Status s = run(server, "max_object_bytes=1048576&max_retries=2", Op::kGet);
  EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.to_string();
  EXPECT_NE(s.message().find("1048576 bytes (max_object_bytes)"), std::string::npos) << s.to_string();
  EXPECT_EQ(server.connections(), 1);
}

// The cap is inclusive: a 5-byte object reads with max_object_bytes=5 and is refused with 4.
TEST(S3Limits, ObjectCapIsInclusive) {
  BadServer server(Misbehaviour::kServesHello);
  auto fits = client_for(server.url("max_object_bytes=5"));
  ASSERT_TRUE(fits);
  auto got = fits->get("k");
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(got->body, "hello");
  Status s = run(server, "max_object_bytes=4&max_retries=0", Op::kGet);
  EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.to_string();
  EXPECT_NE(s.message().find("4 bytes (max_object_bytes)"), std::string::npos) << s.to_string();
}

}  // namespace
}  // namespace s3db
