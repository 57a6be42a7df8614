// pool::Tuner: which tuner, its memory source, and the memory-based start value (tuner.h).
#include "pool/tuner.h"

#include <algorithm>

#include "core/process_memory.h"
#include "pool/aimd_tuner.h"
#include "pool/note_tuner.h"

namespace s3db::pool {

MemoryShare memory_share(const AdaptiveOptions& a) {
  return [usage = a.memory_usage, fixed_limit = a.memory_limit]() -> double {
    const std::uint64_t limit = fixed_limit > 0 ? fixed_limit : core::memory_limit_bytes();
    if (limit == 0) return -1;  // unknown
    const std::uint64_t used = usage ? usage() : core::resident_bytes();
    return static_cast<double>(used) / static_cast<double>(limit);
  };
}

std::unique_ptr<Tuner> make_tuner(const AdaptiveOptions& a, TimePoint start, int memory_start) {
  switch (a.tuner) {
    case TunerKind::kNote: return std::make_unique<NoteTuner>(a, memory_share(a));
    case TunerKind::kAimd: break;
  }
  return std::make_unique<AimdTuner>(a, start, memory_start);
}

int start_concurrency(const AdaptiveOptions& a, std::uint64_t resident, std::uint64_t limit) noexcept {
  const int lo = std::max(1, a.min_concurrency);
  const int hi = std::max(lo, a.max_concurrency);
  if (limit == 0) return std::clamp(kUnknownMemoryStart, lo, hi);
  const double room = std::max(0.0, a.memory_target * static_cast<double>(limit) - static_cast<double>(resident));
  const double ops = room / static_cast<double>(kStartBytesPerOp);
  return ops >= hi ? hi : std::max(lo, static_cast<int>(ops));
}

}  // namespace s3db::pool
