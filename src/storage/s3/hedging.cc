#include "storage/s3/hedging.h"

#include <algorithm>
#include <cmath>

namespace s3db::s3 {

Hedger::Hedger(double budget)
    : budget_(budget), share_(static_cast<std::int64_t>(std::llround(budget * static_cast<double>(kMicro)))) {}

void Hedger::begin(HedgeKind kind) noexcept {
  window(kind).requests.fetch_add(1, std::memory_order_relaxed);
  constexpr auto cap = static_cast<std::int64_t>(kBurst * kMicro);
  std::int64_t t = tokens_.load(std::memory_order_relaxed);
  while (t < cap && !tokens_.compare_exchange_weak(t, std::min(cap, t + share_), std::memory_order_relaxed)) {
  }
}

std::chrono::nanoseconds Hedger::decide(HedgeKind kind, std::chrono::nanoseconds age) noexcept {
  const std::chrono::nanoseconds d = delay(kind);
  if (d.count() == 0) return kWarmupProbe;
  if (age < d) return d - age;
  return take(kind, d, age) ? std::chrono::nanoseconds(0) : d;
}

bool Hedger::take(HedgeKind kind, std::chrono::nanoseconds delay, std::chrono::nanoseconds age) noexcept {
  if (delay.count() <= 0 || age < delay) return false;
  // 1 token, plus a reserve that shrinks as the request grows overdue.
  const double overdue = static_cast<double>(delay.count()) / static_cast<double>(age.count());
  const auto need = static_cast<std::int64_t>((1.0 + kReserve * overdue) * kMicro);
  std::int64_t t = tokens_.load(std::memory_order_relaxed);
  do {
    if (t < need) return false;
  } while (!tokens_.compare_exchange_weak(t, t - kMicro, std::memory_order_relaxed));
  window(kind).sent.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void Hedger::answered(HedgeKind kind, std::chrono::nanoseconds latency, bool duplicate_won) {
  Window& w = window(kind);
  if (duplicate_won) w.won.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(w.mu);
  w.samples[static_cast<std::size_t>(w.next)] = latency.count();
  w.next = (w.next + 1) % kWindow;
  w.size = std::min(w.size + 1, kWindow);
  if (++w.since < kRecompute || w.size < kWarmup) return;
  w.since = 0;
  std::array<std::int64_t, kWindow> sorted = w.samples;
  const auto n = static_cast<std::ptrdiff_t>(w.size);
  // The value at rank ⌊0.95 n⌋ (0-based) of the window's samples.
  const std::ptrdiff_t rank = std::min<std::ptrdiff_t>(n - 1, n * 95 / 100);
  std::nth_element(sorted.begin(), sorted.begin() + rank, sorted.begin() + n);
  w.delay_ns.store(std::max<std::int64_t>(1, sorted[static_cast<std::size_t>(rank)]), std::memory_order_relaxed);
}

HedgeStats::Kind Hedger::kind_stats(const Window& w) {
  HedgeStats::Kind k;
  k.requests = w.requests.load(std::memory_order_relaxed);
  k.sent = w.sent.load(std::memory_order_relaxed);
  k.won = w.won.load(std::memory_order_relaxed);
  k.delay = std::chrono::nanoseconds(w.delay_ns.load(std::memory_order_relaxed));
  return k;
}

HedgeStats Hedger::stats() const {
  HedgeStats s;
  s.enabled = true;
  s.budget = budget_;
  s.tokens = static_cast<double>(tokens_.load(std::memory_order_relaxed)) / kMicro;
  s.get = kind_stats(windows_[0]);
  s.head = kind_stats(windows_[1]);
  s.list = kind_stats(windows_[2]);
  return s;
}

}  // namespace s3db::s3
