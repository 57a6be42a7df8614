// Internal: the retry budget of s3db/pool_protection.h — one token bucket per pool, so that a
// store in trouble sees fewer retries, not a multiple of the load (a retry storm), while a rare
// failure among many successes still gets its retries.
//
// Lock-free (one atomic); safe from any thread.
#pragma once

#include <s3db/pool_protection.h>
#include <s3db/status.h>

#include <atomic>
#include <cstdint>

namespace s3db::pool {

class RetryBudget {
 public:
  explicit RetryBudget(RetryBudgetOptions options);

  // What a retry after `failure` costs (retry_cost, or timeout_cost after a Timeout).
  int cost_of(Code failure) const noexcept;
  // Takes that cost from the bucket: the tokens paid, or 0 when the bucket cannot pay (the failure
  // is then final).
  int try_take(Code failure) noexcept;
  // An op's attempt succeeded after paying `paid` for its latest retry (0: it needed none).
  void on_success(int paid) noexcept;

  int tokens() const noexcept { return tokens_.load(std::memory_order_relaxed); }
  std::uint64_t refused() const noexcept { return refused_.load(std::memory_order_relaxed); }
  const RetryBudgetOptions& options() const noexcept { return opts_; }

 private:
  const RetryBudgetOptions opts_;
  std::atomic<int> tokens_;
  std::atomic<std::uint64_t> refused_{0};
};

}  // namespace s3db::pool
