// s3db/pool_protection.h — what the OperationPool does to protect a store that is struggling:
// a circuit breaker and a retry budget (PoolOptions::breaker, PoolOptions::retry_budget; both off
// by default).
//
// Contract
// - Only failures that say the store is unhealthy count against it: Throttled, Unavailable and
//   Timeout. NotFound, PreconditionFailed, InvalidArgument and the like are answers: healthy.
// - Circuit breaker (the shape of the design note: error-rate threshold over a rolling window
//   with a minimum volume, an open timeout, half-open probes):
//     state      | an attempt is                         | moves to
//     -----------+---------------------------------------+-------------------------------------
//     closed     | admitted                              | open when, over the last `window`,
//                |                                       | at least `min_volume` attempts ended
//                |                                       | and ≥ `threshold` of them unhealthy;
//                |                                       | or after `consecutive` Unavailable/
//                |                                       | Timeout in a row (no healthy answer
//                |                                       | between; Throttled neither counts nor
//                |                                       | breaks the run)
//     open       | refused (Unavailable "circuit open    | half-open once `open_timeout` passed
//                | until …"), or waits when wait_when_open|
//     half-open  | admitted as a probe while fewer than  | closed after `half_open_probes`
//                | `half_open_probes` are in flight;     | healthy probes; open again (a new
//                | others refused / wait                 | `open_timeout`) at one unhealthy probe
//   Outcomes of attempts admitted before the circuit opened do not count once it is open.
// - Retry budget (in the spirit of the AWS SDKs' retry quota): one bucket per pool. A retry costs
//   `retry_cost` tokens (`timeout_cost` after a Timeout); an empty bucket makes the failure final
//   at once, with a message saying the budget is spent. A success refunds what its own retry cost,
//   or `success_refund` when it needed none; never above `capacity`.
// - In the pool (s3db/operation_pool.h says it for the op): every attempt of a queued or run() op
//   asks the breaker before it starts and reports its outcome with the generation it was admitted
//   in; a bypass op does neither. A refusal is not a failure of the store: it is not recorded,
//   not retried and costs no retry-budget token. wait_when_open parks the op (no slot, not
//   queued) until a transition to half-open or closed re-queues it; it asks again then.
//   The budget is asked after every other reason to stop retrying (limit, deadline, stop()), so
//   that tokens pay only for retries that happen; a success refunds after its attempt returned.
// - Thread safety: the classes behind these options are safe to call from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

namespace s3db {

struct CircuitBreakerOptions {
  bool enabled = false;
  double threshold = 0.5;                         // share of unhealthy attempts that opens it
  int min_volume = 20;                            // attempts in the window before it may open
  std::chrono::milliseconds window{10000};        // rolling window of outcomes
  // A run of Unavailable/Timeout that opens it whatever the window holds (0 = off). A store that
  // just went down behind a busy client: the window still holds seconds of successes (600 in an
  // import at 300/s), so the share alone opened it only once they aged out, up to `window` late.
  // Throttled is "slow down", not "down": it is the send rate's (AdaptiveOptions), not a run's.
  int consecutive = 20;
  std::chrono::milliseconds open_timeout{60000};  // open → half-open after this
  int half_open_probes = 5;                       // healthy probes that close it again
  bool wait_when_open = false;                    // queue until half-open instead of failing fast
};

enum class BreakerState : std::uint8_t { kClosed, kOpen, kHalfOpen };
std::string_view breaker_state_name(BreakerState s) noexcept;  // "closed" | "open" | "half-open"

struct RetryBudgetOptions {
  bool enabled = false;
  int capacity = 500;
  int retry_cost = 5;
  int timeout_cost = 10;
  int success_refund = 1;
};

}  // namespace s3db
