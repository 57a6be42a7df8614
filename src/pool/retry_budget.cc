#include "pool/retry_budget.h"

#include <algorithm>

namespace s3db::pool {

RetryBudget::RetryBudget(RetryBudgetOptions options) : opts_(options), tokens_(std::max(options.capacity, 0)) {}

int RetryBudget::cost_of(Code failure) const noexcept {
  return std::max(failure == Code::kTimeout ? opts_.timeout_cost : opts_.retry_cost, 1);
}

int RetryBudget::try_take(Code failure) noexcept {
  const int cost = cost_of(failure);
  int have = tokens_.load(std::memory_order_relaxed);
  do {
    if (have < cost) {
      refused_.fetch_add(1, std::memory_order_relaxed);
      return 0;
    }
  } while (!tokens_.compare_exchange_weak(have, have - cost, std::memory_order_relaxed));
  return cost;
}

void RetryBudget::on_success(int paid) noexcept {
  const int refund = paid > 0 ? paid : opts_.success_refund;
  if (refund <= 0) return;
  int have = tokens_.load(std::memory_order_relaxed);
  while (have < opts_.capacity &&
         !tokens_.compare_exchange_weak(have, std::min(have + refund, opts_.capacity), std::memory_order_relaxed)) {
  }
}

}  // namespace s3db::pool
