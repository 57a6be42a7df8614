// Hedged reads, end to end through a Client against a scripted S3 server on loopback: the first
// request for a "slow" key is held (until the client hangs up, or a bound), every other answers
// at once. A read still unanswered at the live p95 sends one duplicate, the first answer wins and
// the held transfer is aborted; writes never hedge; hedge=off never duplicates; the budget caps
// duplicates. The Hedger's own rules (warm-up, p95, budget, reserve) are checked without a server.
#include "storage/s3/hedging.h"

#include <s3db/client.h>

#include "support/loopback_server.h"

#include <sys/socket.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace s3db {
namespace {

using namespace std::chrono_literals;
using s3::HedgeKind;
using s3::Hedger;

// ---- The Hedger's rules, without a server ----

TEST(Hedger, NoDelayUntilTheKindHasEnoughAnswers) {
  Hedger h(0.05);
  for (int i = 0; i < 200; ++i) h.begin(HedgeKind::kGet);  // plenty of tokens
  for (int i = 0; i < Hedger::kWarmup - 1; ++i) {
    EXPECT_EQ(h.delay(HedgeKind::kGet).count(), 0) << i;
    EXPECT_EQ(h.decide(HedgeKind::kGet, 1h), Hedger::kWarmupProbe) << "warming up: ask again later";
    h.answered(HedgeKind::kGet, 1ms, false);
  }
  h.answered(HedgeKind::kGet, 1ms, false);
  EXPECT_EQ(h.delay(HedgeKind::kGet), 1ms);
  EXPECT_EQ(h.decide(HedgeKind::kGet, 0ms), 1ms) << "not due: the rest of the delay";
  EXPECT_EQ(h.decide(HedgeKind::kGet, 1h).count(), 0) << "a request sent while warming up is hedged now";
  EXPECT_EQ(h.delay(HedgeKind::kHead).count(), 0) << "each kind warms up on its own answers";
  EXPECT_EQ(h.stats().head.delay.count(), 0);
}

TEST(Hedger, TheDelayIsTheP95OfTheLastAnswers) {
  Hedger h(0.05);
  // 1..512 ms, shuffled by a stride coprime with 512: the p95 of the window is 487 ms.
  for (int i = 0; i < Hedger::kWindow; ++i) {
    h.answered(HedgeKind::kList, std::chrono::milliseconds(1 + (i * 77) % Hedger::kWindow), false);
  }
  EXPECT_EQ(h.stats().list.delay, 487ms);
  // It is live: a window of 10 ms answers moves it to 10 ms.
  for (int i = 0; i < Hedger::kWindow; ++i) h.answered(HedgeKind::kList, 10ms, false);
  EXPECT_EQ(h.stats().list.delay, 10ms);
  EXPECT_EQ(h.stats().get.delay.count(), 0);
}

TEST(Hedger, DuplicatesNeverExceedTheBudgetOfTheRequestsSoFar) {
  Hedger h(0.05);
  for (int i = 0; i < Hedger::kWarmup; ++i) h.answered(HedgeKind::kGet, 2ms, false);
  std::uint64_t taken = 0;
  for (int i = 1; i <= 5000; ++i) {
    h.begin(HedgeKind::kGet);
    // Every request as overdue as can be: only the budget says no.
    if (h.decide(HedgeKind::kGet, 1h).count() == 0) ++taken;
    ASSERT_LE(static_cast<double>(taken), 0.05 * i + 1e-9) << "after " << i << " requests";
  }
  EXPECT_GE(taken, 249u);  // and it is spent: 5 % of 5,000, give or take the last fraction
  EXPECT_EQ(h.stats().get.sent, taken);
  EXPECT_EQ(h.stats().get.requests, 5000u);
}

TEST(Hedger, WhileTheBudgetIsScarceTheMostOverdueGoFirst) {
  Hedger h(0.05);
  for (int i = 0; i < Hedger::kWarmup; ++i) h.answered(HedgeKind::kGet, 2ms, false);
  for (int i = 0; i < 60; ++i) h.begin(HedgeKind::kGet);  // 3 tokens
  EXPECT_NEAR(h.stats().tokens, 3.0, 1e-6);
  EXPECT_FALSE(h.take(HedgeKind::kGet, 2ms, 1ms)) << "not yet due";
  EXPECT_EQ(h.decide(HedgeKind::kGet, 3ms), 2ms) << "refused: ask again one delay later";
  EXPECT_FALSE(h.take(HedgeKind::kGet, 2ms, 2ms)) << "just due: needs 1 + 4 tokens";
  EXPECT_FALSE(h.take(HedgeKind::kGet, 2ms, 3ms)) << "needs 1 + 4 × 2/3 tokens";
  EXPECT_TRUE(h.take(HedgeKind::kGet, 2ms, 8ms)) << "four delays overdue: needs 2";
  EXPECT_TRUE(h.take(HedgeKind::kGet, 2ms, 1s)) << "long overdue: needs just over 1";
  EXPECT_NEAR(h.stats().tokens, 1.0, 1e-6);
  for (int i = 0; i < 10'000; ++i) h.begin(HedgeKind::kGet);
  EXPECT_NEAR(h.stats().tokens, Hedger::kBurst, 1e-6) << "the bucket holds a burst at most";
}

TEST(Hedger, CountsWhatTheDuplicatesWon) {
  Hedger h(0.1);
  h.answered(HedgeKind::kHead, 1ms, true);
  h.answered(HedgeKind::kHead, 1ms, false);
  const HedgeStats s = h.stats();
  EXPECT_TRUE(s.enabled);
  EXPECT_EQ(s.head.won, 1u);
  EXPECT_DOUBLE_EQ(s.budget, 0.1);
}

// ---- Through a Client, against a scripted server ----

constexpr auto kHangBound = 60s;  // only reached when something hangs

// An S3-speaking HTTP/1.1 server on 127.0.0.1 (keep-alive, a thread per connection). A request
// whose target (path and query) contains "slow" is held the first time that method+target is
// seen, one whose target contains "hang" every time: until the client hangs up (counted as
// abandoned) or `hold` passes. One whose target contains "flaky" is held the first time and
// answered 503 SlowDown every later time. Every other request answers at once:
// GET of the bucket → an empty listing, GET → "hello", HEAD → its headers, PUT → an ETag.
class ScriptedServer : public testing::LoopbackServer {
 public:
  explicit ScriptedServer(std::chrono::milliseconds hold = kHangBound) : hold_(hold) { start(); }
  ~ScriptedServer() override { stop(); }

  std::string url(std::string_view params) const { return LoopbackServer::url("secret", params); }
  // Requests seen for "METHOD target" ("GET /bucket/key", "GET /bucket?list-type=2&prefix=…").
  int seen(const std::string& method_target) const {
    std::lock_guard lock(mu_);
    auto it = seen_.find(method_target);
    return it == seen_.end() ? 0 : it->second;
  }
  int abandoned() const { return abandoned_.load(); }

 private:
  void serve(int fd) override {
    std::string buffer;
    char chunk[4096];
    while (!stopping()) {
      std::size_t end;
      while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
        const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) return;
        buffer.append(chunk, static_cast<std::size_t>(n));
      }
      const std::string head = buffer.substr(0, end);
      buffer.erase(0, end + 4);
      const std::string line = head.substr(0, head.find("\r\n"));
      const std::string method = line.substr(0, line.find(' '));
      std::string target = line.substr(method.size() + 1);
      target = target.substr(0, target.find(' '));
      const std::string path = target.substr(0, target.find('?'));
      std::size_t length = 0;
      for (std::string_view name : {"content-length: ", "Content-Length: "}) {
        if (auto at = head.find(name); at != std::string::npos) length = std::stoul(head.substr(at + name.size()));
      }
      while (buffer.size() < length) {
        const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) return;
        buffer.append(chunk, static_cast<std::size_t>(n));
      }
      buffer.erase(0, length);
      int count;
      {
        std::lock_guard lock(mu_);
        count = ++seen_[method + " " + target];
      }
      const bool held = ((target.find("slow") != std::string::npos || target.find("flaky") != std::string::npos) &&
                         count == 1) ||
                        target.find("hang") != std::string::npos;
      if (held && hung_up_within(fd, hold_)) {
        ++abandoned_;
        return;
      }
      std::string response;
      if (target.find("flaky") != std::string::npos && count > 1) {
        const std::string body =
            "<?xml version=\"1.0\"?><Error><Code>SlowDown</Code><Message>Reduce your rate</Message></Error>";
        response = "HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nContent-Length: " +
                   std::to_string(body.size()) + "\r\n\r\n" + body;
      } else if (method == "PUT") {
        response = "HTTP/1.1 200 OK\r\nETag: \"e1\"\r\nContent-Length: 0\r\n\r\n";
      } else if (path == "/bucket") {
        const std::string body =
            "<?xml version=\"1.0\"?><ListBucketResult><Name>bucket</Name><IsTruncated>false</IsTruncated>"
            "</ListBucketResult>";
        response = "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: " +
                   std::to_string(body.size()) + "\r\n\r\n" + body;
      } else {
        response = "HTTP/1.1 200 OK\r\nETag: \"e1\"\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n";
        if (method == "GET") response += "hello";
      }
      if (!send_all(fd, response)) return;
    }
  }

  const std::chrono::milliseconds hold_;
  mutable std::mutex mu_;
  std::map<std::string, int> seen_;
  std::atomic<int> abandoned_{0};
};

std::shared_ptr<Client> open_client(const ScriptedServer& server, std::string_view params) {
  auto client = Client::open(server.url(params));
  EXPECT_TRUE(client.ok()) << client.status().to_string();
  return client.ok() ? *client : nullptr;
}

// Enough fast answers of each read kind for the Hedger to know its p95 (and hold a few tokens).
void warm_up(Client& client, int n = 2 * Hedger::kWarmup) {
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(client.get("warm/" + std::to_string(i % 7)).ok());
    ASSERT_TRUE(client.head("warm/" + std::to_string(i % 7)).ok());
    ListRequest list;
    list.prefix = "warm/";
    ASSERT_TRUE(client.list(list).ok());
  }
}

template <typename F>
bool eventually(F done) {
  const auto until = std::chrono::steady_clock::now() + kHangBound;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

TEST(HedgedReads, ASlowGetIsAnsweredByItsDuplicateAndTheFirstTransferIsAborted) {
  ScriptedServer server;
  auto client = open_client(server, "concurrency=4");
  ASSERT_TRUE(client);
  warm_up(*client);
  ASSERT_GT(client->hedging().get.delay.count(), 0);
  // (A warm-up read that took a little longer may have been hedged too: count from here.)
  const HedgeStats before = client->hedging();

  auto got = client->get("slow/a");
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(got->body, "hello");
  EXPECT_EQ(server.seen("GET /bucket/slow/a"), 2);
  const HedgeStats s = client->hedging();
  EXPECT_TRUE(s.enabled);
  EXPECT_EQ(s.get.sent - before.get.sent, 1u);
  // The server holds whichever of the two it reads first: almost always the first send, but the
  // duplicate (sent a p95 later, well under a millisecond here) can overtake it.
  EXPECT_LE(s.get.won - before.get.won, 1u);
  EXPECT_LE(static_cast<double>(s.sent()), s.budget * static_cast<double>(s.requests()));
  // The held request's connection was closed by the client, not left running.
  EXPECT_TRUE(eventually([&] { return server.abandoned() == 1; }));
  // And the Client shows it.
  const std::string text = client->prometheus();
  EXPECT_NE(text.find("s3db_hedges_sent_total{pool="), std::string::npos) << text;
  EXPECT_NE(text.find("s3db_hedge_delay_seconds{pool="), std::string::npos) << text;
}

TEST(HedgedReads, HeadAndListHedgeToo) {
  ScriptedServer server;
  auto client = open_client(server, "concurrency=4");
  ASSERT_TRUE(client);
  warm_up(*client);
  const HedgeStats before = client->hedging();
  auto head = client->head("slow/h");
  ASSERT_TRUE(head.ok()) << head.status().to_string();
  EXPECT_EQ(server.seen("HEAD /bucket/slow/h"), 2);
  EXPECT_EQ(client->hedging().head.sent - before.head.sent, 1u);
  EXPECT_TRUE(eventually([&] { return server.abandoned() == 1; }));

  ListRequest list;
  list.prefix = "slow";
  auto page = client->list(list);
  ASSERT_TRUE(page.ok()) << page.status().to_string();
  EXPECT_EQ(client->hedging().list.sent - before.list.sent, 1u);
  EXPECT_TRUE(eventually([&] { return server.abandoned() == 2; }));
}

TEST(HedgedReads, WritesNeverHedge) {
  ScriptedServer server(300ms);  // the held PUT is answered after 300 ms
  auto client = open_client(server, "concurrency=4");
  ASSERT_TRUE(client);
  warm_up(*client);
  const std::uint64_t before = client->hedging().sent();
  PutRequest put;
  put.key = "slow/w";
  put.body = "data";
  ASSERT_TRUE(client->put(put).ok());
  EXPECT_EQ(server.seen("PUT /bucket/slow/w"), 1);
  EXPECT_EQ(client->hedging().sent(), before);
}

// The duplicate is throttled at once, the first send answers later: the call gets the answer,
// not the throttle (with no retries, a throttle would be the call's result).
TEST(HedgedReads, AServerErrorFromOneSendWaitsForTheOther) {
  ScriptedServer server(300ms);
  auto client = open_client(server, "concurrency=4&max_retries=0");
  ASSERT_TRUE(client);
  warm_up(*client);
  const HedgeStats before = client->hedging();
  auto got = client->get("flaky/f");
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(got->body, "hello");
  EXPECT_EQ(server.seen("GET /bucket/flaky/f"), 2);
  EXPECT_EQ(client->hedging().get.sent - before.get.sent, 1u);
}

TEST(HedgedReads, OffSendsNoDuplicate) {
  ScriptedServer server(300ms);
  auto client = open_client(server, "concurrency=4&hedge=off");
  ASSERT_TRUE(client);
  warm_up(*client);
  ASSERT_TRUE(client->get("slow/off").ok());
  EXPECT_EQ(server.seen("GET /bucket/slow/off"), 1);
  EXPECT_FALSE(client->hedging().enabled);
  EXPECT_EQ(server.abandoned(), 0);
}

TEST(HedgedReads, ATimeoutAbortsTheRequestAndItsDuplicate) {
  ScriptedServer server;
  auto client = open_client(server, "concurrency=4&max_retries=0");
  ASSERT_TRUE(client);
  warm_up(*client);
  const HedgeStats before = client->hedging();
  OpOptions options;
  options.timeout = 500ms;
  auto got = client->get("hang/t", options);  // every request for it is held
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Code::kTimeout) << got.status().to_string();
  EXPECT_EQ(server.seen("GET /bucket/hang/t"), 2) << "the duplicate went out before the timeout";
  EXPECT_EQ(client->hedging().get.won, before.get.won);
  EXPECT_TRUE(eventually([&] { return server.abandoned() == 2; })) << "both transfers closed";
}

}  // namespace
}  // namespace s3db
