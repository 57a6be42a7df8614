// s3db/shared_limit.h — limits shared by every process that names the same Redis and key: a
// concurrency limit and request-rate caps (the design note's distributed coordination;
// docs/coordination.md). Set through ClientOptions::shared, the connection string (`redis=`,
// `global_concurrency=`, `rate_put=`, `rate_get=`, … — s3db/connection.h) or the CLI.
//
// Contract
// - Concurrency (global_concurrency ≥ 1, needs redis_url): the Client's pool runs at most as many
//   ops at once as the permits it holds. Permits are leases in Redis, taken and returned by atomic
//   scripts on Redis's clock, leased in small batches as the pool's demand moves and renewed by a
//   thread of the Client's own: no Redis round trip on an op's path. Fair: a process that waits
//   gets its share (⌈limit ÷ processes that want permits⌉) from busier ones within lease_ttl / 3.
//   A process killed with -9 holds its permits at most one lease_ttl.
// - Rates (rate_put / rate_get > 0): every storage request — not every pool op: a db op may make
//   several — takes a token first. Writes (PUT, COPY, DELETE, multi-object DELETE) take from the
//   put bucket, reads (GET, HEAD, LIST) from the get bucket (S3 limits them per prefix: 3,500 and
//   5,500 per second). With redis_url the buckets are in Redis (refilled by Redis's clock) and
//   every process that names the key shares them; without, they cap this process alone. A request
//   without its token waits in its slot; the wait ends with the attempt's deadline (Timeout).
// - Redis away (unreachable, restarted, any script error): the pool runs on its local share —
//   `fallback` permits and fallback_rate_share × each rate — emits kFallback (and the CLI prints a
//   warning), retries the connection every second and, once Redis answers, emits kResumed and
//   returns to shared mode. A bad URL, a wrong password or nobody listening when the Client
//   opens is one error then (naming the URL without its password).
// - Secrets: the password in redis_url is shown nowhere (messages, events, to_string(), metrics).
// - Events run on the coordinator's thread; a listener must not block or call back into the
//   Client's shared-limit API. A throwing listener is ignored.
#pragma once

#include <s3db/status.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace s3db {

struct SharedLimitEvent {
  enum class Kind : std::uint8_t {
    kFallback,    // Redis went away: running on the local share (message says why)
    kResumed,     // Redis answers again: back in shared mode
    kLeasesLost,  // leases found expired at renewal (held says what is left)
  };
  Kind kind;
  std::string message;  // why, with the Redis URL's password masked
  int held = 0;         // permits held after the event
};
std::string_view event_name(SharedLimitEvent::Kind k) noexcept;  // "fallback", "resumed", "leases_lost"

struct SharedLimitConfig {
  // redis://[[user]:password@]host[:port][/db] or unix:///path/to/socket[?db=N]; empty = no Redis
  // (then only the rates apply, to this process alone).
  std::string redis_url;
  // One set of limits per key. Empty: "s3db:" + the store's location as the Client describes it
  // (s3://bucket/prefix at endpoint (region)): processes writing to the same prefix share, others
  // do not — S3 counts its request rates per prefix.
  std::string key;
  int global_concurrency = 0;      // permits for every process together; 0 = no shared limit
  double rate_put = 0;             // write requests/s for every process together; 0 = no cap
  double rate_get = 0;             // read requests/s; 0 = no cap
  std::chrono::milliseconds lease_ttl{10000};
  int fallback = 4;                  // the pool's cap while Redis is away
  double fallback_rate_share = 0.25;  // the part of each rate used while Redis is away
  std::function<void(const SharedLimitEvent&)> on_event;  // optional

};

// InvalidArgument naming the field: global_concurrency without redis_url, a redis_url with
// neither global_concurrency nor a rate, a negative or non-finite rate, lease_ttl under 100 ms,
// fallback < 0, fallback_rate_share outside (0, 1]. OK for the default (nothing set).
Status check(const SharedLimitConfig& config);

// What Client::shared_limit() reports (all zero when no limit is set).
struct SharedLimitState {
  bool joined = false;        // a concurrency limit or a rate cap is in force
  bool shared = false;        // through Redis (false: a local rate cap only)
  bool fallback = false;      // Redis away: running on the local share
  int held = 0;               // permits held now
  std::uint64_t leased = 0, returned = 0;  // permits since start
  std::uint64_t renewals = 0;              // renewal rounds
  std::uint64_t lost = 0;                  // leases found expired at renewal
  std::uint64_t excess_returned = 0;       // permits given back to a process below its fair share
  std::uint64_t fallbacks = 0;             // times Redis went away
  std::uint64_t rate_waits = 0;            // requests that waited for a token
  double rate_wait_s = 0;                  // their total wait
  std::uint64_t rate_requests = 0;         // requests that took a token
};

}  // namespace s3db
