// The design note's four auto-tuning rules (pool/note_tuner.h), row by row; then the note tuner
// through a pool: ticks on the pool's ManualClock, injected memory, concurrency_changed reasons.
#include "pool/note_tuner.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "../pool/pool_test_util.h"

namespace s3db::pool {
namespace {

using namespace std::chrono_literals;

TEST(NoteTunerTest, TheTableOfNoteTunerH) {
  const NoteTunerTargets t;  // 10..200, 100 ms, 70 % memory
  struct Row {
    const char* what;
    NoteTunerInput in;
    int limit;  // expected (== in.limit: no change)
    std::string reason;
  } rows[] = {
      {"memory pressure wins over everything", {100, 10ms, 0.75}, 80, "memory-pressure"},
      {"memory pressure, at the target", {100, 300ms, 0.70}, 80, "memory-pressure"},
      {"latency > 1.5x", {100, 151ms, 0.1}, 90, "latency-high"},
      {"latency < 0.5x, low memory", {100, 49ms, 0.1}, 120, "latency-low"},
      {"latency < 0.5x, memory unknown", {100, 49ms, -1}, 120, "latency-low"},
      {"latency < 0.5x but memory near the target", {100, 49ms, 0.6}, 100, ""},
      {"latency > 1.2x", {100, 121ms, 0.1}, 95, "latency-moderate"},
      {"latency on target", {100, 100ms, 0.1}, 100, ""},
      {"no successful attempt to measure", {100, 0ms, 0.1}, 100, ""},
      {"below the floor: brought within bounds", {3, 10ms, 0.1}, 10, "latency-low"},
      {"at least one step: 20 % of 12 is 2.4", {12, 10ms, 0.1}, 14, "latency-low"},
      {"at least one step: 5 % of 11 rounds to 1", {11, 130ms, 0.1}, 10, "latency-moderate"},
      {"at the floor", {10, 500ms, 0.1}, 10, ""},
      {"at the ceiling", {200, 10ms, 0.1}, 200, ""},
      {"near the ceiling: clamped", {190, 10ms, 0.1}, 200, "latency-low"},
      {"small limit still decreases", {11, 160ms, 0.1}, 10, "latency-high"},
  };
  for (const Row& r : rows) {
    const auto d = note_rule(r.in, t);
    if (r.limit == r.in.limit) {
      EXPECT_FALSE(d) << r.what << ": " << (d ? d->reason : "");
      continue;
    }
    ASSERT_TRUE(d) << r.what;
    EXPECT_EQ(d->limit, r.limit) << r.what;
    EXPECT_EQ(std::string(d->reason), r.reason) << r.what;
  }
}

struct Change {
  int from, to;
  std::string reason;
  bool operator==(const Change&) const = default;
};

class NoteTunerPool : public ::testing::Test {
 protected:
  NoteTunerPool() {
    PoolOptions o = s3db::testing::pool_options(20, clock_);
    o.adaptive.enabled = true;
    o.adaptive.tuner = TunerKind::kNote;
    o.adaptive.min_concurrency = 2;
    o.adaptive.max_concurrency = 100;
    o.adaptive.target_latency = 100ms;
    o.adaptive.interval = 5000ms;
    o.adaptive.memory_target = 0.7;
    o.adaptive.memory_limit = 1000;
    used_ = 100;
    memory_reads_ = 0;
    o.adaptive.memory_usage = [] {
      memory_reads_.fetch_add(1);  // once per tick: how the test knows a tick ran
      return used_.load();
    };
    pool_ = std::make_unique<OperationPool>(o);
    sub_ = pool_->on(PoolEvent::kConcurrencyChanged, [this](const EventInfo& e) {
      std::lock_guard<std::mutex> g(mu_);
      changes_.push_back({e.old_concurrency, e.new_concurrency, std::string(e.reason)});
    });
  }
  ~NoteTunerPool() override {
    sub_.reset();
    pool_.reset();
  }

  // One interval: an op whose attempt takes `latency` on the pool's clock, memory at `used` of
  // 1000 bytes, then the clock reaches the next tick. Returns the changes made since the last
  // call (the tick's decision, if `expect_change`).
  std::vector<Change> interval(std::chrono::milliseconds latency, std::uint64_t used, bool expect_change) {
    used_ = used;
    EXPECT_TRUE(pool_->run([&](OpContext&) {
      clock_->advance(latency);
      return Status::OK();
    }).ok());
    // A failure three times as slow: the latency is that of successful attempts only.
    (void)pool_->run([&](OpContext&) {
      clock_->advance(latency * 3);
      return Status::NotFound("slow 404");
    });
    clock_->advance(5000ms - latency * 4);
    const int ticks = ++ticks_;
    EXPECT_TRUE(s3db::testing::eventually([&] { return memory_reads_.load() >= ticks; }));
    if (expect_change) {
      EXPECT_TRUE(s3db::testing::eventually([&] { return changes_size() > seen_; }));
    }
    std::lock_guard<std::mutex> g(mu_);
    std::vector<Change> out(changes_.begin() + static_cast<std::ptrdiff_t>(seen_), changes_.end());
    seen_ = changes_.size();
    return out;
  }

  std::size_t changes_size() {
    std::lock_guard<std::mutex> g(mu_);
    return changes_.size();
  }

  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
  static inline std::atomic<std::uint64_t> used_{100};  // a plain function reads them
  std::unique_ptr<OperationPool> pool_;
  Subscription sub_;
  std::mutex mu_;
  std::vector<Change> changes_;
  int ticks_ = 0;
  std::size_t seen_ = 0;
  static inline std::atomic<int> memory_reads_{0};
};

// Limit 20, targets 100 ms and 70 % of 1000 bytes; each interval is one tick of the pool's clock.
TEST_F(NoteTunerPool, FollowsEachOfTheFourRulesWithItsReason) {
  using V = std::vector<Change>;
  EXPECT_EQ(interval(40ms, 750, true), (V{{20, 16, "memory-pressure"}}));   // rule 1 beats 40 ms
  EXPECT_EQ(interval(160ms, 100, true), (V{{16, 14, "latency-high"}}));     // rule 2: > 150 ms
  EXPECT_EQ(interval(40ms, 100, true), (V{{14, 17, "latency-low"}}));       // rule 3: < 50 ms, low memory
  EXPECT_EQ(interval(40ms, 600, false), V{});                               // ... but not near the target
  EXPECT_EQ(interval(130ms, 100, true), (V{{17, 16, "latency-moderate"}}));  // rule 4: > 120 ms
  EXPECT_EQ(interval(100ms, 100, false), V{});                              // on target: no change
  EXPECT_EQ(pool_->stats().concurrency, 16);
}


}  // namespace
}  // namespace s3db::pool
