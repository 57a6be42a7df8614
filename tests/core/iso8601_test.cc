#include "core/iso8601.h"

#include <gtest/gtest.h>

namespace s3db::core {
namespace {

using std::chrono::milliseconds;
using std::chrono::system_clock;

TEST(Iso8601, UtcWithMilliseconds) {
  EXPECT_EQ(iso8601_utc(system_clock::time_point{}), "1970-01-01T00:00:00.000Z");
  // 2026-01-02T03:04:05.678Z
  const system_clock::time_point t{milliseconds(1767323045678LL)};
  EXPECT_EQ(iso8601_utc(t), "2026-01-02T03:04:05.678Z");
  // Truncated, never rounded into the next second.
  EXPECT_EQ(iso8601_utc(t + std::chrono::microseconds(321'999)), "2026-01-02T03:04:05.999Z");
  // Before the epoch: the millisecond part stays in 0..999.
  EXPECT_EQ(iso8601_utc(system_clock::time_point{milliseconds(-1)}), "1969-12-31T23:59:59.999Z");
}

}  // namespace
}  // namespace s3db::core
