// Internal: when a read sends its duplicate (hedged reads; docs/s3-client.md "Hedged reads").
//
// Contract
// | Rule | What |
// |---|---|
// | kinds | GET of an object, HEAD, LIST (a GET of the bucket): each its own latency window. Writes never hedge. |
// | delay | the live p95 of the kind: over its last kWindow answers, recomputed every kRecompute; none (no hedge) until kWarmup answers |
// | sample | the time from sending the first request to the first answer. When the duplicate answered first, that time is a lower bound of the first request's latency: recorded as it is, which keeps the p95 an estimate of the first request's (a request hedged stays "slow") |
// | budget | a token bucket: every request of a hedged kind adds `budget` tokens (at most kBurst held), a duplicate takes one. It starts empty, so over any run duplicates ≤ budget × requests |
// | spending | a request that has waited `age` ≥ delay sends its duplicate when the bucket holds 1 + kReserve × delay / age tokens: while the budget is scarce it goes to the requests most overdue (at twice the delay 1 + kReserve/2 …); a request refused asks again one delay later; the delay is the kind's when asked (a request sent while the kind warmed up is hedged once it knows its p95) |
// | answers | only an HTTP answer is a sample; cancelled and failed transfers are not |
// Thread-safe: counters and the bucket are atomics; each kind's window has its own mutex, held
// for a few instructions per answer (and an nth_element of kWindow values every kRecompute).
#pragma once

#include <s3db/storage_client.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>

namespace s3db::s3 {

enum class HedgeKind { kGet = 0, kHead = 1, kList = 2 };

class Hedger {
 public:
  static constexpr int kWindow = 512;
  static constexpr int kRecompute = 32;
  static constexpr int kWarmup = 64;
  static constexpr double kBurst = 10;
  static constexpr double kReserve = 4;

  explicit Hedger(double budget);

  // While a kind warms up, a request in flight asks again this often (it may still be rescued
  // once the kind's p95 is known: the first reads of a cold client are as likely to be stuck).
  static constexpr std::chrono::milliseconds kWarmupProbe{10};

  // A request of `kind` goes out now: counts it and adds its share to the budget.
  void begin(HedgeKind kind) noexcept;
  // A request of `kind` unanswered after `age`: zero when it sends its duplicate now (the token is
  // taken), else how long until it asks again (the rest of the delay, or one more delay when
  // refused, or kWarmupProbe while the kind has no delay yet).
  std::chrono::nanoseconds decide(HedgeKind kind, std::chrono::nanoseconds age) noexcept;
  // Whether a request unanswered after `age` (≥ `delay`) sends its duplicate now; takes the token
  // when it does.
  bool take(HedgeKind kind, std::chrono::nanoseconds delay, std::chrono::nanoseconds age) noexcept;
  // The kind's delay now (zero while it warms up).
  std::chrono::nanoseconds delay(HedgeKind kind) const noexcept {
    return std::chrono::nanoseconds(windows_[static_cast<int>(kind)].delay_ns.load(std::memory_order_relaxed));
  }
  // The request was answered `latency` after it went out; `duplicate_won`: by its duplicate.
  void answered(HedgeKind kind, std::chrono::nanoseconds latency, bool duplicate_won);

  HedgeStats stats() const;

 private:
  static constexpr std::int64_t kMicro = 1'000'000;  // the bucket counts millionths of a token

  struct Window {
    std::mutex mu;
    std::array<std::int64_t, kWindow> samples{};
    int next = 0, size = 0, since = 0;
    std::atomic<std::int64_t> delay_ns{0};
    std::atomic<std::uint64_t> requests{0}, sent{0}, won{0};
  };

  Window& window(HedgeKind kind) noexcept { return windows_[static_cast<int>(kind)]; }
  static HedgeStats::Kind kind_stats(const Window& w);

  const double budget_;
  const std::int64_t share_;  // budget_ in millionths of a token
  std::atomic<std::int64_t> tokens_{0};
  std::array<Window, 3> windows_;
};

}  // namespace s3db::s3
