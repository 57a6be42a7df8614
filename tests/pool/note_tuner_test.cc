// The design note's four auto-tuning rules (pool/note_tuner.h), row by row.
#include "pool/note_tuner.h"

#include <gtest/gtest.h>

#include <string>

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

}  // namespace
}  // namespace s3db::pool
