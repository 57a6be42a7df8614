// Which tuner a pool gets, and where it starts (pool/tuner.h): the memory-based start value as a
// pure function, and through a pool with PoolOptions::concurrency = 0.
#include "pool/tuner.h"

#include <gtest/gtest.h>

#include "pool/aimd_tuner.h"
#include "pool/note_tuner.h"

#include "../pool/pool_test_util.h"

namespace s3db::pool {
namespace {

constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;

TEST(TunerStart, MemoryLeftUnderTheTargetInFourMiBSharesWithinMinMax) {
  AdaptiveOptions a;  // 2..256, target 0.7
  struct Row {
    const char* what;
    std::uint64_t resident, limit;
    int expected;
  } rows[] = {
      {"512 MiB container, 58.4 MiB used: (358.4 - 58.4) / 4", static_cast<std::uint64_t>(58.4 * kMiB), 512 * kMiB, 75},
      {"plenty of memory: max", 100 * kMiB, 64 * 1024 * kMiB, 256},
      {"already over the target: min", 400 * kMiB, 512 * kMiB, 2},
      {"less than one share left: min", 358 * kMiB, 512 * kMiB, 2},
      {"memory unknown: 50", 0, 0, kUnknownMemoryStart},
  };
  for (const Row& r : rows) EXPECT_EQ(start_concurrency(a, r.resident, r.limit), r.expected) << r.what;

  a.min_concurrency = 10;
  a.max_concurrency = 40;
  EXPECT_EQ(start_concurrency(a, 0, 0), 40) << "unknown, within [min, max]";
  EXPECT_EQ(start_concurrency(a, 400 * kMiB, 512 * kMiB), 10);
  a.memory_target = 0.5;
  EXPECT_EQ(start_concurrency(a, 0, 100 * kMiB), 12) << "50 MiB / 4 MiB";
}

TEST(TunerStart, APoolWithTuningAndConcurrencyZeroStartsThere) {
  PoolOptions o;
  o.concurrency = 0;
  o.clock = std::make_shared<ManualClock>();
  o.adaptive.enabled = true;
  o.adaptive.memory_limit = 1024 * kMiB;
  o.adaptive.memory_usage = [] { return 100 * kMiB; };
  o.adaptive.max_concurrency = 1000;
  OperationPool pool(o);
  EXPECT_EQ(pool.options().concurrency, 154);  // (716.8 - 100) / 4
  EXPECT_EQ(pool.stats().concurrency, o.adaptive.slow_start_from) << "aimd slow-starts towards it";
  o.adaptive.tuner = TunerKind::kNote;
  OperationPool note(o);
  EXPECT_EQ(note.stats().concurrency, 154);

  o.adaptive.enabled = false;  // without tuning, 0 is not a start value: the floor of 1
  OperationPool fixed(o);
  EXPECT_EQ(fixed.stats().concurrency, 1);
}

TEST(TunerKinds, EachOptionSelectsItsTuner) {
  AdaptiveOptions a;
  a.enabled = true;
  auto aimd = make_tuner(a, TimePoint{}, 0);
  EXPECT_NE(dynamic_cast<AimdTuner*>(aimd.get()), nullptr);
  EXPECT_EQ(aimd->interval(), Duration::zero()) << "aimd decides on feedback, no tick";
  a.tuner = TunerKind::kNote;
  auto note = make_tuner(a, TimePoint{}, 0);
  EXPECT_NE(dynamic_cast<NoteTuner*>(note.get()), nullptr);
  EXPECT_EQ(note->interval(), std::chrono::milliseconds(5000));
}

TEST(TunerMemory, ShareOfTheLimitOrUnknown) {
  AdaptiveOptions a;
  a.memory_limit = 1000;
  a.memory_usage = [] { return std::uint64_t{250}; };
  EXPECT_DOUBLE_EQ(memory_share(a)(), 0.25);
  a.memory_usage = nullptr;  // the process's resident set: something, below the machine's memory
  a.memory_limit = 0;
  const double real = memory_share(a)();
  EXPECT_TRUE(real < 0 || (real > 0 && real < 1)) << real;
}

}  // namespace
}  // namespace s3db::pool
