// What the pool knows of the process's memory (core/process_memory.h).
#include "core/process_memory.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>

namespace s3db::core {
namespace {

TEST(ProcessMemoryTest, ParsesCgroupLimitsAndMemTotal) {
  EXPECT_EQ(parse_cgroup_limit("max\n"), 0u);
  EXPECT_EQ(parse_cgroup_limit("536870912\n"), 536870912u);
  EXPECT_EQ(parse_cgroup_limit("9223372036854771712\n"), 0u) << "cgroup v1's 'no limit'";
  EXPECT_EQ(parse_cgroup_limit(""), 0u);
  EXPECT_EQ(parse_cgroup_limit("garbage"), 0u);
  EXPECT_EQ(parse_mem_total("MemTotal:        8048576 kB\nMemFree:  1 kB\n"), std::uint64_t{8048576} * 1024);
  EXPECT_EQ(parse_mem_total("MemFree:  1 kB\n"), 0u);
}

TEST(ProcessMemoryTest, ResidentGrowsWithTouchedMemoryAndStaysUnderTheLimit) {
  const std::uint64_t before = resident_bytes();
  ASSERT_GT(before, 0u);
  const std::size_t size = 64u << 20;
  std::unique_ptr<char[]> block(new char[size]);
  std::memset(block.get(), 1, size);  // touched: resident
  const std::uint64_t after = resident_bytes();
  EXPECT_GE(after, before + size / 2) << before << " → " << after;
  volatile char keep = block[size - 1];
  (void)keep;
  const std::uint64_t limit = memory_limit_bytes();
  ASSERT_GT(limit, 0u);
  EXPECT_LT(after, limit);
}

}  // namespace
}  // namespace s3db::core
