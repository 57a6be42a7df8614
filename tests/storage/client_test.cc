#include "s3db/client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

namespace s3db {
namespace {

// Joins without `"literal" + std::string&&`, which GCC 12 -O2 flags with a false -Wrestrict.
std::string cat(std::string_view a, std::string_view b) {
  std::string s(a);
  s += b;
  return s;
}

// Records which threads ran ops and how many attempts each op took; fails the first `failures`
// put attempts with Unavailable (retryable).
class ProbeClient : public ForwardingClient {
 public:
  explicit ProbeClient(int failures = 0) : ForwardingClient(make_memory_client()), failures_(failures) {}

  Result<PutResult> put(const PutRequest& r, OpContext& c) override {
    record(c);
    if (failures_.fetch_sub(1) > 0) return Status::Unavailable(cat("put ", r.key), "injected 503");
    return ForwardingClient::put(r, c);
  }
  Result<Object> get(std::string_view k, OpContext& c) override {
    record(c);
    return ForwardingClient::get(k, c);
  }
  Status remove(std::string_view k, OpContext& c) override {
    record(c);
    return ForwardingClient::remove(k, c);
  }
  Result<ListPage> list(const ListRequest& r, OpContext& c) override {
    record(c);
    lists_++;
    return ForwardingClient::list(r, c);
  }

  std::set<std::thread::id> threads() {
    std::lock_guard g(mu_);
    return threads_;
  }
  int max_attempt() const { return max_attempt_.load(); }
  int lists() const { return lists_.load(); }

 private:
  void record(OpContext& c) {
    std::lock_guard g(mu_);
    threads_.insert(std::this_thread::get_id());
    if (c.attempt() > max_attempt_) max_attempt_ = c.attempt();
  }
  std::atomic<int> failures_;
  std::atomic<int> max_attempt_{0};
  std::atomic<int> lists_{0};
  std::mutex mu_;
  std::set<std::thread::id> threads_;
};

PutRequest req(std::string key, std::string body) {
  PutRequest r;
  r.key = std::move(key);
  r.body = std::move(body);
  return r;
}

ClientOptions fast_retries(bool enabled) {
  ClientOptions o;
  o.pool_enabled = enabled;
  o.pool.concurrency = 4;
  o.pool.backoff.base = std::chrono::milliseconds(1);
  o.pool.backoff.throttled_base = std::chrono::milliseconds(1);
  o.pool.backoff.cap = std::chrono::milliseconds(2);
  return o;
}

TEST(ClientTest, OpenBuildsTheClientAndAppliesUriPoolHints) {
  ClientOptions o;
  o.pool.concurrency = 50;
  auto c = Client::open("memory://b/p?concurrency=7&max_retries=0&timeout_ms=1500", o);
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ((*c)->storage().kind(), "memory");
  EXPECT_EQ((*c)->storage().describe(), "memory://b/p");
  EXPECT_EQ((*c)->pool().options().concurrency, 7);
  EXPECT_EQ((*c)->pool().options().backoff.max_retries, 0);
  EXPECT_EQ((*c)->pool().options().default_timeout, std::chrono::milliseconds(1500));
  EXPECT_EQ((*c)->pool().stats().concurrency, 7);
  // Without hints, the caller's options stand.
  auto d = Client::open("memory://", o);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ((*d)->pool().options().concurrency, 50);
}

// Remote stores are protected by default (the breaker) and tune themselves (concurrency=auto, the
// default); ClientOptions::concurrency (the CLI's --concurrency) wins over the URI. No request is
// made: the pool is built, nothing runs.
TEST(ClientTest, RemoteStoresDefaultToTheBreakerAndTuneWithAuto) {
  ClientOptions o;
  o.pool.adaptive.memory_limit = std::uint64_t{1} << 30;
  o.pool.adaptive.memory_usage = [] { return std::uint64_t{100} << 20; };
  o.pool.adaptive.max_concurrency = 1000;
  auto d = Client::open("http://K:S@127.0.0.1:9/bucket-1", o);
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  EXPECT_TRUE((*d)->pool().options().adaptive.enabled) << "auto is the remote default";
  EXPECT_EQ((*d)->pool().options().concurrency, 154) << "the memory-based start: (0.7 GiB - 100 MiB) / 4 MiB";
  EXPECT_EQ((*d)->pool().stats().concurrency, 8) << "reached by slow start";
  EXPECT_TRUE((*d)->pool().metrics().send_rate.enabled);
  EXPECT_TRUE((*d)->pool().stats().breaker_enabled);
  EXPECT_FALSE((*d)->pool().stats().retry_budget_enabled) << "the budget is not a remote default";

  auto c = Client::open("http://K:S@127.0.0.1:9/bucket-1?concurrency=auto&retry_budget=500", o);
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  const PoolOptions& p = (*c)->pool().options();
  EXPECT_TRUE(p.adaptive.enabled);
  EXPECT_EQ(p.concurrency, 154);
  EXPECT_TRUE((*c)->pool().stats().retry_budget_enabled);
  EXPECT_EQ((*c)->pool().stats().retry_budget_tokens, 500);

  o.concurrency = 12;
  auto fixed = Client::open("http://K:S@127.0.0.1:9/bucket-1?concurrency=auto", o);
  ASSERT_TRUE(fixed.ok());
  EXPECT_FALSE((*fixed)->pool().options().adaptive.enabled);
  EXPECT_EQ((*fixed)->pool().stats().concurrency, 12);
  auto fixed_by_uri = Client::open("http://K:S@127.0.0.1:9/bucket-1?concurrency=64", ClientOptions{});
  ASSERT_TRUE(fixed_by_uri.ok());
  EXPECT_FALSE((*fixed_by_uri)->pool().options().adaptive.enabled);
  EXPECT_EQ((*fixed_by_uri)->pool().stats().concurrency, 64);

  ClientOptions local;
  auto m = Client::open("memory://", local);
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE((*m)->pool().options().adaptive.enabled);
  EXPECT_FALSE((*m)->pool().stats().breaker_enabled);
  EXPECT_EQ((*m)->pool().stats().concurrency, 50);
}

TEST(ClientTest, OpenRejectsBadUris) {
  auto c = Client::open("memory://?bogus=1");
  EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
  EXPECT_NE(c.status().message().find("bogus"), std::string::npos);
}

TEST(ClientTest, SyncOperationsRoundTrip) {
  auto c = Client::wrap(make_memory_client());
  auto p = c->put(req("a", "1"));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(c->get("a")->body, "1");
  EXPECT_EQ(c->head("a")->etag, p->etag);
  CopyRequest cp;
  cp.source_key = "a";
  cp.dest_key = "b";
  EXPECT_TRUE(c->copy(cp).ok());
  EXPECT_EQ(c->list(ListRequest{})->objects.size(), 2u);
  EXPECT_TRUE(c->remove("a").ok());
  EXPECT_EQ(c->get("a").status().code(), Code::kNotFound);
  auto many = c->remove_many({"a", "b"});
  ASSERT_TRUE(many.ok());
  EXPECT_EQ(many->deleted, 2u);
  EXPECT_TRUE(c->list_all("")->empty());
  EXPECT_GE(c->pool().stats().processed, 8u);  // every call went through the pool
}

TEST(ClientTest, PoolRetriesRetryableFailures) {
  auto probe = std::make_shared<ProbeClient>(2);
  auto c = Client::wrap(probe, fast_retries(true));
  auto p = c->put(req("a", "1"));
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  EXPECT_EQ(probe->max_attempt(), 3);  // two injected failures, then success
  EXPECT_EQ(c->pool().stats().retries, 2u);
}

TEST(ClientTest, DisabledPoolBypassesQueueAndRetries) {
  auto probe = std::make_shared<ProbeClient>(1);
  auto c = Client::wrap(probe, fast_retries(false));
  EXPECT_FALSE(c->pool_enabled());
  EXPECT_TRUE(c->effective(OpOptions{}).bypass);
  auto p = c->put(req("a", "1"));
  EXPECT_EQ(p.status().code(), Code::kUnavailable);  // no retry without the pool
  EXPECT_EQ(probe->max_attempt(), 1);
  EXPECT_TRUE(c->put(req("a", "1")).ok());
  // Async forms run on the caller's thread too.
  auto f = c->get_async("a");
  auto g = f.get();
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  EXPECT_EQ(g->body, "1");
  EXPECT_EQ(probe->threads(), std::set<std::thread::id>{std::this_thread::get_id()});
}

TEST(ClientTest, EnabledPoolRunsAsyncOpsOnPoolThreads) {
  auto probe = std::make_shared<ProbeClient>();
  auto c = Client::wrap(probe, fast_retries(true));
  EXPECT_FALSE(c->effective(OpOptions{}).bypass);
  std::vector<Future<PutResult>> fs;
  for (int i = 0; i < 50; ++i) fs.push_back(c->put_async(req(cat("k", std::to_string(i)), "v")));
  for (auto& f : fs) ASSERT_TRUE(f.get().ok());
  EXPECT_EQ(probe->threads().count(std::this_thread::get_id()), 0u);
  EXPECT_EQ(c->list_all("k")->size(), 50u);
}

TEST(ClientTest, AsyncForms) {
  auto c = Client::wrap(make_memory_client());
  PutRequest r = req("x", "body");
  auto put = c->put_async(std::move(r)).get();
  ASSERT_TRUE(put.ok());
  auto got = c->get_async("x").get();
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->body, "body");
  EXPECT_EQ(got->meta.etag, put->etag);
  Status removed = c->remove_async("x").get();
  EXPECT_TRUE(removed.ok()) << removed.to_string();
  EXPECT_EQ(c->get_async("x").get().status().code(), Code::kNotFound);
}

TEST(ClientTest, ListAllPagesThroughOnePoolOpPerPage) {
  auto probe = std::make_shared<ProbeClient>();
  auto c = Client::wrap(probe);
  std::vector<Future<PutResult>> fs;
  for (int i = 0; i < 2500; ++i) fs.push_back(c->put_async(req(cat("p/", std::to_string(100000 + i)), "v")));
  for (auto& f : fs) ASSERT_TRUE(f.get().ok());
  (void)c->put(req("q/outside", "v"));
  const auto before = c->pool().stats().processed;
  auto all = c->list_all("p/");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2500u);
  EXPECT_EQ(all->front().key, "p/100000");
  EXPECT_EQ(all->back().key, "p/102499");
  EXPECT_TRUE(std::is_sorted(all->begin(), all->end(), [](const auto& a, const auto& b) { return a.key < b.key; }));
  EXPECT_EQ(probe->lists(), 3);
  EXPECT_EQ(c->pool().stats().processed - before, 3u);
}

TEST(ClientTest, ListEachStopsWhenTheVisitorSaysSo) {
  auto probe = std::make_shared<ProbeClient>();
  auto c = Client::wrap(probe);
  for (int i = 0; i < 2500; ++i) ASSERT_TRUE(c->put(req(cat("p/", std::to_string(100000 + i)), "v")).ok());
  std::vector<std::string> seen;
  Status s = c->list_each("p/", [&](ObjectMeta& m) {
    seen.push_back(m.key);
    return seen.size() < 1001;  // one key into the second page
  });
  ASSERT_TRUE(s.ok()) << s.to_string();
  ASSERT_EQ(seen.size(), 1001u);
  EXPECT_EQ(seen.back(), "p/101000");
  EXPECT_EQ(probe->lists(), 2);  // the third page is never fetched
}

// Truncated pages whose continuation token is missing or never changes: a listing that would
// page forever. Every page holds the same one key.
class StuckLister : public ForwardingClient {
 public:
  explicit StuckLister(std::string token) : ForwardingClient(make_memory_client()), token_(std::move(token)) {}
  Result<ListPage> list(const ListRequest&, OpContext&) override {
    ++lists_;
    ListPage page;
    page.objects.push_back(ObjectMeta{"k", 1, "etag", "", 0, {}});
    page.truncated = true;
    page.next_continuation_token = token_;
    return page;
  }
  std::atomic<int> lists_{0};

 private:
  std::string token_;
};

TEST(ClientTest, ListingThatDoesNotAdvanceIsInternal) {
  for (const std::string token : {"", "same-token"}) {
    auto stuck = std::make_shared<StuckLister>(token);
    auto c = Client::wrap(stuck);
    auto all = c->list_all("p/");
    EXPECT_EQ(all.status().code(), Code::kInternal) << token;
    EXPECT_NE(all.status().message().find(token.empty() ? "token missing" : "token repeated"), std::string::npos)
        << all.status().to_string();
    int visited = 0;
    Status each = c->list_each("p/", [&](ObjectMeta&) { return ++visited < 1000; });
    EXPECT_EQ(each.code(), Code::kInternal) << token;
    // A missing token stops at the first page; a repeated one is noticed at the second.
    EXPECT_EQ(stuck->lists_.load(), token.empty() ? 2 : 4);
  }
}

// An op that waits for its cancellation: the pool's per-attempt timeout cancels it, and the
// client reports Timeout.
class HangingClient : public ForwardingClient {
 public:
  HangingClient() : ForwardingClient(make_memory_client()) {}
  Result<Object> get(std::string_view k, OpContext& c) override {
    for (int i = 0; i < 10000 && !c.cancelled(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (c.cancelled()) return c.cancel_status();
    return ForwardingClient::get(k, c);
  }
};

TEST(ClientTest, TimeoutCancelsTheRunningOp) {
  auto c = Client::wrap(std::make_shared<HangingClient>());
  OpOptions o;
  o.timeout = std::chrono::milliseconds(20);
  o.retries = 0;
  auto r = c->get("k", o);
  EXPECT_EQ(r.status().code(), Code::kTimeout) << r.status().to_string();
}

TEST(ClientTest, ClientSharedAcrossThreads) {
  auto c = Client::wrap(make_memory_client());
  std::vector<std::thread> ts;
  std::atomic<int> errors{0};
  for (int t = 0; t < 8; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        if (!c->put(req(cat(cat(std::to_string(t), "/"), std::to_string(i)), "v")).ok()) errors++;
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(c->list_all("")->size(), 800u);
}

}  // namespace
}  // namespace s3db
