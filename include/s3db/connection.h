// s3db/connection.h — connection strings, parsed without I/O.
//
// Grammar
//   memory://[bucket][/prefix][?params]
//   file:///absolute/path[?params]         file://./relative/path[?params]
//   s3://[KEY:SECRET@]bucket[/prefix][?params]                        (AWS, virtual-hosted)
//   http(s)://[KEY:SECRET@]host[:port]/bucket[/prefix][?params]       (custom endpoint, path-style)
// Params: region, session_token, path_style (true|false), verify_tls (true|false), ca_file
//   (PEM bundle of the CAs to trust for https instead of the system store; read when a request
//   is made), timeout_ms, connect_timeout_ms, low_speed_limit, low_speed_time_s,
//   max_response_bytes, max_object_bytes, hedge (on|off, default on), hedge_budget (0.001..1,
//   default 0.05), and the pool's: concurrency (a number, or auto),
//   tuner (aimd|note), concurrency_min, concurrency_max, breaker (on|off), retry_budget
//   (tokens|off), max_retries, and the shared limit's (below) — memory:// and file:// take only
//   timeout_ms, the pool's and the shared limit's. Unknown params, and bad values (InvalidArgument
//   naming the parameter), are refused; tuner and concurrency_min/max need concurrency=auto.
//   Percent-encoding is decoded in credentials, path segments and values (a raw redis= URL
//   decodes its own: below).
// Shared limit (s3db/shared_limit.h; any store, into `shared`): redis (a Redis URL),
//   global_concurrency (1..100000, needs redis), rate_put and rate_get (requests/s, 0.001..1e9,
//   decimals allowed; with redis every process naming the key shares them, without they cap this
//   process), and with redis only: redis_key (default s3db:limit), lease_ttl_ms (100..3600000,
//   default 10000), fallback_concurrency (0..100000, default 4) and fallback_rate_share (0..1,
//   default 0.25). Omit a limit for none: global_concurrency=0 and a rate of 0 are refused, and so
//   is a redis that shares nothing. The Redis URL is checked (syntax only: no connection) and
//   written either raw — redis=redis://[[user]:password@]host[:port][/db] or
//   redis=unix:///path[?db=N], taken as it is up to the next '&', its own grammar decoding the
//   user's and password's escapes: write a password's '%', '/', '&', '#' as %25 %2F %26 %23 (and
//   best '@', ':', '?' as %40 %3A %3F, though raw ones are understood: the password runs from
//   the first ':' to the last '@') — or percent-encoded whole (a value that does not start with
//   redis:// or unix://; decoded once, then read the same way). An '@' in a redis= value never
//   ends the store's credentials.
// Pool defaults by store: s3:// and http(s):// — concurrency=auto (the aimd tuner: slow start
//   towards the memory-based suggestion, a send rate learnt from Throttled answers; a number
//   fixes the limit instead, and ClientOptions::concurrency overrides the URI), breaker=on
//   (CircuitBreakerOptions' defaults), no retry budget (retry_budget=N turns it on: behind a
//   throttling store it failed records that patient retries store); memory:// and
//   file:// — the caller's PoolOptions (by default a fixed 50, no breaker, no budget).
// Remote defaults (s3://, http(s)://), so that a server that stalls can never hang a call: a
//   60 s per-attempt timeout (timeout_ms; 0 = none), a 10 s connect timeout, a transfer slower
//   than 1 byte/s for 30 s is aborted (low_speed_limit, low_speed_time_s; 0 = off) — all reported
//   as Timeout, which the pool retries — and response bodies are capped: 16 MiB for listings,
//   errors and results (max_response_bytes), 5 GiB for an object's GET (max_object_bytes); a
//   bigger body is cut off and reported as InvalidArgument naming the parameter.
// Credentials: KEY ends at the first ':'; the SECRET runs to the '@' that ends the credentials and
//   may contain ':'. Write '/', '?', '#', '@' and '%' in a secret as %2F %3F %23 %40 %25 (RFC 3986
//   userinfo). Raw ones are still understood when unambiguous — AWS secrets are pasted with raw
//   '/' and '+' — the credentials ending at the '@' followed by a valid bucket (s3://) or
//   host[:port] (http) and then '/', '?' or the end; when two '@' qualify (a raw '@' in the secret,
//   or an '@' in the prefix) the string is refused (InvalidArgument) rather than guessed. A raw '%'
//   followed by two hex digits is read as an escape. '#' is refused anywhere (write %23).
// Control characters (bytes < 0x20 and 0x7F), raw or percent-encoded, are refused anywhere: a NUL
//   would cut a file path short in the C APIs, and no name, secret or parameter needs one.
// Fallbacks (awscli-like) when the URI lacks them: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
//   AWS_SESSION_TOKEN, AWS_REGION / AWS_DEFAULT_REGION (default us-east-1), and for s3:// only
//   AWS_ENDPOINT_URL (turns it into a custom endpoint).
// Contract: FromUri is pure apart from reading those environment variables (FromUriWithEnv takes
//   them explicitly); failures are InvalidArgument with a message that never contains the secret,
//   the session token (the URI's or the environment's), the Redis password, nor any 4-byte piece
//   of them: input text that may hold part of one is shown as '***'. to_string() masks secrets
//   (redis=redis://user:***@host:6379/0); redact_uri() masks a raw string, even a malformed one.
//   Thread-safe (plain values).
#pragma once

#include <s3db/operation_pool.h>
#include <s3db/shared_limit.h>
#include <s3db/status.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace s3db {

enum class StorageKind { kMemory, kFile, kS3 };

struct ConnectionOptions {
  StorageKind kind = StorageKind::kMemory;
  std::string bucket;        // memory: namespace name; s3: bucket
  std::string prefix;        // key prefix inside the bucket, no leading/trailing '/'
  std::string path;          // file: root directory (absolute after parsing ./relative)

  // S3 only.
  std::string endpoint;      // "http://127.0.0.1:7480"; empty = AWS (https://BUCKET.s3.REGION.amazonaws.com)
  std::string region = "us-east-1";
  std::string access_key;
  std::string secret_key;
  std::string session_token;
  bool path_style = false;   // true for custom endpoints unless path_style=false
  bool verify_tls = true;
  std::string ca_file;       // PEM CA bundle for https; empty = the system's trust store
  // Per attempt (the pool's default timeout, and each S3 transfer's limit); 0 = none. FromUri
  // sets kDefaultRemoteTimeout for s3/http(s) unless timeout_ms is given; memory/file: none.
  std::chrono::milliseconds timeout{0};
  std::chrono::milliseconds connect_timeout{10000};  // 0 = libcurl's own (300 s)
  long low_speed_limit = 1;                          // bytes/s; with low_speed_time, 0 = no check
  std::chrono::seconds low_speed_time{30};
  std::uint64_t max_response_bytes = std::uint64_t{16} << 20;  // any body but an object's
  std::uint64_t max_object_bytes = std::uint64_t{5} << 30;     // an object's GET body
  // Hedged reads (docs/s3-client.md "Hedged reads"): a GET, HEAD or LIST still unanswered at the
  // live p95 of its kind sends one duplicate, the first answer wins. hedge=on|off; hedge_budget:
  // duplicates per request at most (0.001..1), over any stretch of requests.
  bool hedge = true;
  double hedge_budget = 0.05;
  static constexpr std::chrono::milliseconds kDefaultRemoteTimeout{60000};

  // Pool settings carried by the URI, remote defaults included (see above); unset = the caller's
  // PoolOptions stand. Client::open applies them (apply_to()).
  static constexpr int kAutoConcurrency = 0;  // concurrency=auto
  std::optional<int> concurrency;             // a fixed limit, or kAutoConcurrency
  std::optional<TunerKind> tuner;             // with auto only
  std::optional<int> concurrency_min, concurrency_max;  // with auto only
  std::optional<bool> breaker;
  std::optional<int> retry_budget;            // tokens; 0 = off
  std::optional<int> max_retries;

  // The shared limit the URI asks for (redis=, global_concurrency=, rate_put=, …; none by
  // default). FromUri checks it (check() and the Redis URL's syntax); joining it is the Client's.
  SharedLimitConfig shared;

  // Writes the pool settings above into `pool` (concurrency=auto: tuning on, start value 0 =
  // memory-based; a number: tuning off).
  void apply_to(PoolOptions& pool) const;

  // Parses `uri`, reading AWS_* fallbacks from the process environment.
  static Result<ConnectionOptions> FromUri(std::string_view uri);
  // Same, with an explicit environment lookup (tests).
  static Result<ConnectionOptions> FromUriWithEnv(
      std::string_view uri, const std::function<std::optional<std::string>(std::string_view)>& env);

  // The URI with the secret (and session token) replaced by "***".
  std::string to_string() const;
};

// `uri` as given, with everything that may be a secret replaced by "***" — for showing a
// connection string that may not parse (--help, reports, logs). Over-masks rather than leaks: with
// credentials, everything from the first ':' after "://" to the last '@' (not counting those of a
// redis= value); a lone "TEXT@"; every session_token value; in a redis= value, raw or encoded,
// its password (or a lone "TEXT@", or all of a value with no "://").
// "s3://AKID:wJalr/K7@bucket/p" → "s3://AKID:***@bucket/p";
// "memory://?redis=redis://:pw@h:6379/0&rate_put=10" → "memory://?redis=redis://:***@h:6379/0&rate_put=10".
std::string redact_uri(std::string_view uri);

}  // namespace s3db
