// ConnectionOptions back to text and to the pool: to_string() (secrets masked; parsing its output
// gives back every field but the secrets) and apply_to(). Parsing is connection.cc's.
#include "s3db/connection.h"

#include "core/encoding.h"
#include "storage/uri_secrets.h"

#include <algorithm>
#include <charconv>
#include <utility>
#include <vector>

namespace s3db {
namespace {

using encoding::percent_encode;
using encoding::kUnreserved;
using encoding::kUnreservedAndSlash;
using Params = std::vector<std::pair<std::string, std::string>>;  // name → value as written

// Adds a parameter, its value percent-encoded.
void add_param(Params& params, std::string name, const std::string& value) {
  params.emplace_back(std::move(name), percent_encode(value, kUnreserved));
}

std::string decimal_text(double v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);  // the shortest text that reads back as v
  return std::string(buf, r.ptr);
}

// The Redis URL with its password masked (storage::redis_url_secret), written raw when the parser
// reads it back raw — it starts with its scheme and holds nothing that ends or breaks a parameter
// — and percent-encoded whole otherwise.
std::string redis_param_value(const std::string& url) {
  const storage::UriSpan secret = storage::redis_url_secret(url);
  std::string masked = url;
  if (secret.end > secret.begin) masked.replace(secret.begin, secret.end - secret.begin, "***");
  const bool raw = (masked.starts_with("redis://") || masked.starts_with("unix://")) &&
                   std::none_of(masked.begin(), masked.end(), [](char c) {
                     return c == '&' || c == '#' || static_cast<unsigned char>(c) < 0x20 || c == 0x7F;
                   });
  return raw ? masked : percent_encode(masked, kUnreserved.with("*"));
}

// The shared limit's params that differ from SharedLimitConfig's defaults.
void add_shared_params(const SharedLimitConfig& s, Params& params) {
  const SharedLimitConfig defaults;
  auto add = [&](std::string name, const std::string& value) { add_param(params, std::move(name), value); };
  if (!s.redis_url.empty()) params.emplace_back("redis", redis_param_value(s.redis_url));
  if (s.key != defaults.key) add("redis_key", s.key);
  if (s.global_concurrency != defaults.global_concurrency) add("global_concurrency", std::to_string(s.global_concurrency));
  if (s.rate_put != defaults.rate_put) add("rate_put", decimal_text(s.rate_put));
  if (s.rate_get != defaults.rate_get) add("rate_get", decimal_text(s.rate_get));
  if (s.lease_ttl != defaults.lease_ttl) add("lease_ttl_ms", std::to_string(s.lease_ttl.count()));
  if (s.fallback != defaults.fallback) add("fallback_concurrency", std::to_string(s.fallback));
  if (s.fallback_rate_share != defaults.fallback_rate_share) {
    add("fallback_rate_share", decimal_text(s.fallback_rate_share));
  }
}

// "/prefix", encoded, when there is one. Appended piece by piece: `"/" + text` here made g++ 12
// see a false -Wrestrict once to_string() grew.
void append_prefix(std::string& out, const std::string& prefix) {
  if (prefix.empty()) return;
  out += '/';
  out += percent_encode(prefix, kUnreservedAndSlash);
}

}  // namespace

std::string ConnectionOptions::to_string() const {
  Params params;
  auto add = [&](std::string name, const std::string& value) { add_param(params, std::move(name), value); };
  std::string out;
  switch (kind) {
    case StorageKind::kMemory:
      out = "memory://" + percent_encode(bucket, kUnreserved);
      append_prefix(out, prefix);
      break;
    case StorageKind::kFile:
      out = "file://" + percent_encode(path, kUnreservedAndSlash);
      break;
    case StorageKind::kS3: {
      const bool custom = !endpoint.empty();
      const auto sep = endpoint.find("://");
      out = custom ? endpoint.substr(0, sep + 3) : "s3://";
      if (!access_key.empty() || !secret_key.empty()) out += percent_encode(access_key, kUnreserved) + ":***@";
      if (custom) out += endpoint.substr(sep + 3) + "/";
      out += percent_encode(bucket, kUnreserved);
      append_prefix(out, prefix);
      if (!custom || region != "us-east-1") add("region", region);
      if (!session_token.empty()) params.emplace_back("session_token", "***");
      if (path_style != custom) add("path_style", path_style ? "true" : "false");
      if (!verify_tls) add("verify_tls", "false");
      if (!ca_file.empty()) add("ca_file", ca_file);
      if (connect_timeout != std::chrono::milliseconds(10000)) {
        add("connect_timeout_ms", std::to_string(connect_timeout.count()));
      }
      if (timeout != kDefaultRemoteTimeout) add("timeout_ms", std::to_string(timeout.count()));
      const ConnectionOptions defaults;
      if (low_speed_limit != defaults.low_speed_limit) add("low_speed_limit", std::to_string(low_speed_limit));
      if (low_speed_time != defaults.low_speed_time) add("low_speed_time_s", std::to_string(low_speed_time.count()));
      if (max_response_bytes != defaults.max_response_bytes) add("max_response_bytes", std::to_string(max_response_bytes));
      if (max_object_bytes != defaults.max_object_bytes) add("max_object_bytes", std::to_string(max_object_bytes));
      if (!hedge) add("hedge", std::string("off"));
      if (hedge_budget != defaults.hedge_budget) {
        const std::string budget = decimal_text(hedge_budget);
        add("hedge_budget", budget);
      }
      break;
    }
  }
  if (kind != StorageKind::kS3 && timeout.count() > 0) add("timeout_ms", std::to_string(timeout.count()));
  // The pool's settings, when they differ from the store's defaults.
  const bool remote = kind == StorageKind::kS3;
  if (concurrency && !(remote && *concurrency == kAutoConcurrency)) {
    add("concurrency", *concurrency == kAutoConcurrency ? "auto" : std::to_string(*concurrency));
  }
  if (tuner) add("tuner", *tuner == TunerKind::kNote ? "note" : "aimd");
  if (concurrency_min) add("concurrency_min", std::to_string(*concurrency_min));
  if (concurrency_max) add("concurrency_max", std::to_string(*concurrency_max));
  if (breaker && *breaker != remote) add("breaker", *breaker ? "on" : "off");
  if (retry_budget) {
    add("retry_budget", *retry_budget > 0 ? std::to_string(*retry_budget) : "off");
  }
  if (max_retries) add("max_retries", std::to_string(*max_retries));
  add_shared_params(shared, params);
  std::sort(params.begin(), params.end());
  for (std::size_t i = 0; i < params.size(); ++i) out += (i == 0 ? "?" : "&") + params[i].first + "=" + params[i].second;
  return out;
}

void ConnectionOptions::apply_to(PoolOptions& pool) const {
  if (concurrency == kAutoConcurrency) {
    pool.adaptive.enabled = true;
    pool.concurrency = 0;  // the memory-based start value
    if (tuner) pool.adaptive.tuner = *tuner;
    if (concurrency_min) pool.adaptive.min_concurrency = *concurrency_min;
    if (concurrency_max) pool.adaptive.max_concurrency = *concurrency_max;
  } else if (concurrency) {
    pool.adaptive.enabled = false;
    pool.concurrency = *concurrency;
  }
  if (breaker) pool.breaker.enabled = *breaker;
  if (retry_budget) {
    pool.retry_budget.enabled = *retry_budget > 0;
    if (*retry_budget > 0) pool.retry_budget.capacity = *retry_budget;
  }
  if (max_retries) pool.backoff.max_retries = *max_retries;
}

}  // namespace s3db
