// Property test: random mixes of priorities, failures, timeouts, pause/resume/stop and
// set_concurrency never exceed the concurrency limit and complete every op exactly once with the
// status its behaviour implies.
#include <s3db/operation_pool.h>

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <algorithm>
#include <cstdio>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <thread>
#include <mutex>
#include <vector>

#include "pool_test_util.h"

namespace s3db {
namespace {

enum class Kind { kOk, kRetryThenOk, kRetryForever, kNonRetryable, kHang };
enum class Action { kNone, kPause, kResume, kSetConcurrency, kStop };

struct OpSpec {
  int priority;
  Kind kind;
  Action action;  // applied just before this op is submitted
  int new_limit;
};

void showValue(const OpSpec& s, std::ostream& os) {
  os << "{prio " << s.priority << " kind " << static_cast<int>(s.kind) << " action " << static_cast<int>(s.action)
     << " limit " << s.new_limit << "}";
}

class ZeroDelay final : public RetryPolicy {
 public:
  int max_retries() const noexcept override { return 2; }
  std::chrono::milliseconds delay(const Status&, int, std::uint64_t) const noexcept override {
    return std::chrono::milliseconds(0);
  }
};

struct Shared {
  std::atomic<int> running{0};
  std::atomic<int> max_running{0};
  std::atomic<int> max_allowed{0};  // the highest limit ever set
  std::atomic<bool> over_limit{false};
};

Status run_op(Kind kind, OpContext& ctx, Shared& sh) {
  const int now_running = sh.running.fetch_add(1) + 1;
  if (now_running > sh.max_allowed.load()) sh.over_limit = true;
  Status result;
  switch (kind) {
    case Kind::kOk: break;
    case Kind::kRetryThenOk:
      if (ctx.attempt() <= 2) result = Status::Throttled("slow down");
      break;
    case Kind::kRetryForever: result = Status::Unavailable("503"); break;
    case Kind::kNonRetryable: result = Status::InvalidArgument("bad"); break;
    case Kind::kHang: {
      std::mutex mu;
      std::condition_variable cv;
      bool aborted = false;
      ctx.on_cancel([&] {
        std::lock_guard<std::mutex> g(mu);
        aborted = true;
        cv.notify_all();
      });
      {
        std::unique_lock<std::mutex> lk(mu);
        cv.wait_for(lk, std::chrono::seconds(10), [&] { return aborted; });
      }
      ctx.clear_on_cancel();
      result = aborted ? Status::Unavailable("aborted") : Status::Internal("never cancelled");
      break;
    }
  }
  sh.running.fetch_sub(1);
  return result;
}

Code expected_code(Kind k) {
  switch (k) {
    case Kind::kOk:
    case Kind::kRetryThenOk: return Code::kOk;
    case Kind::kRetryForever: return Code::kUnavailable;
    case Kind::kNonRetryable: return Code::kInvalidArgument;
    case Kind::kHang: return Code::kTimeout;
  }
  return Code::kInternal;
}

// Prints the failed condition at once: rapidcheck re-runs the shrunk case to report it, and a
// timing-dependent failure may not recur in that re-run.
#define POOL_CHECK(cond)                                                        \
  do {                                                                          \
    if (!(cond)) {                                                              \
      std::fprintf(stderr, "property violated: %s (line %d)\n", #cond, __LINE__); \
      RC_FAIL(#cond);                                                           \
    }                                                                           \
  } while (0)

TEST(PoolProperty, LimitRespectedAndEveryOpCompletesOnceCorrectly) {
  const bool ok = rc::check("pool invariants", [] {
    const int initial = *rc::gen::inRange(1, 5);
    const auto specs = *rc::gen::container<std::vector<OpSpec>>(
        *rc::gen::inRange(1, 30), rc::gen::build<OpSpec>(
                                      rc::gen::set(&OpSpec::priority, rc::gen::inRange(0, 4)),
                                      rc::gen::set(&OpSpec::kind, rc::gen::element(Kind::kOk, Kind::kOk, Kind::kRetryThenOk,
                                                                                   Kind::kRetryForever, Kind::kNonRetryable,
                                                                                   Kind::kHang)),
                                      rc::gen::set(&OpSpec::action,
                                                   rc::gen::weightedElement<Action>({{20, Action::kNone},
                                                                                     {2, Action::kPause},
                                                                                     {2, Action::kResume},
                                                                                     {3, Action::kSetConcurrency},
                                                                                     {1, Action::kStop}})),
                                      rc::gen::set(&OpSpec::new_limit, rc::gen::inRange(1, 5))));

    auto clock = std::make_shared<ManualClock>();
    PoolOptions po = testing::pool_options(initial, clock);
    po.retry_policy = std::make_shared<ZeroDelay>();
    auto pool = std::make_unique<OperationPool>(po);
    Shared sh;
    sh.max_allowed = initial;

    const std::size_t n = specs.size();
    std::vector<std::unique_ptr<std::atomic<int>>> completions;
    std::vector<std::unique_ptr<std::atomic<int>>> codes;
    for (std::size_t i = 0; i < n; ++i) {
      completions.push_back(std::make_unique<std::atomic<int>>(0));
      codes.push_back(std::make_unique<std::atomic<int>>(-1));
    }
    bool stopped = false;
    for (std::size_t i = 0; i < n; ++i) {
      const OpSpec& s = specs[i];
      switch (s.action) {
        case Action::kNone: break;
        case Action::kPause: pool->pause(); break;
        case Action::kResume: pool->resume(); break;
        case Action::kSetConcurrency:
          sh.max_allowed = std::max(sh.max_allowed.load(), s.new_limit);
          pool->set_concurrency(s.new_limit);
          break;
        case Action::kStop:
          pool->stop();
          stopped = true;
          break;
      }
      OpOptions o;
      o.priority = s.priority;
      if (s.kind == Kind::kHang) {
        o.timeout = std::chrono::milliseconds(10);
        o.retries = 0;
      }
      const Kind kind = s.kind;
      pool->submit([kind, &sh](OpContext& ctx) { return run_op(kind, ctx, sh); }, o)
          .then([c = completions[i].get(), code = codes[i].get()](Status st) {
            code->store(static_cast<int>(st.code()));
            c->fetch_add(1);
          });
    }
    pool->resume();
    // Let timeouts fire: advance the manual clock until every op has completed (bounded).
    auto all_done = [&] {
      return std::all_of(completions.begin(), completions.end(), [](const auto& c) { return c->load() > 0; });
    };
    for (int i = 0; i < 3000 && !all_done(); ++i) {
      clock->advance(std::chrono::milliseconds(10));
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    for (std::size_t i = 0; i < n; ++i) {
      RC_LOG() << "op " << i << " completions " << completions[i]->load() << " code " << codes[i]->load() << "\n";
    }
    RC_LOG() << "over_limit " << sh.over_limit.load() << " max_allowed " << sh.max_allowed.load() << " processed "
             << pool->stats().processed << " n " << n << "\n";
    POOL_CHECK(all_done());
    pool->drain();
    RC_LOG() << "after drain processed " << pool->stats().processed << " over " << sh.over_limit.load() << "\n";
    POOL_CHECK(pool->stats().processed == n);
    POOL_CHECK(!sh.over_limit.load());
    for (std::size_t i = 0; i < n; ++i) {
      POOL_CHECK(completions[i]->load() == 1);
      const Code got = static_cast<Code>(codes[i]->load());
      const Code want = expected_code(specs[i].kind);
      RC_LOG() << "op " << i << " got " << static_cast<int>(got) << " want " << static_cast<int>(want) << "\n";
      if (!(got == want || (stopped && got == Code::kCancelled))) {
        std::fprintf(stderr, "op %zu kind %d: got %d want %d (stopped %d)\n", i, static_cast<int>(specs[i].kind),
                     static_cast<int>(got), static_cast<int>(want), stopped);
      }
      POOL_CHECK(got == want || (stopped && got == Code::kCancelled));
    }
    pool.reset();  // joins the threads; no completion may arrive afterwards
    for (std::size_t i = 0; i < n; ++i) RC_LOG() << "after reset op " << i << " " << completions[i]->load() << "\n";
    for (std::size_t i = 0; i < n; ++i) POOL_CHECK(completions[i]->load() == 1);
  });
  EXPECT_TRUE(ok);
}

}  // namespace
}  // namespace s3db
