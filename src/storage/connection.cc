// ConnectionOptions::FromUri — strict, pure parsing of connection strings (grammar in
// s3db/connection.h; user documentation in docs/connection-strings.md).
//
// Secrets: everything that may be a secret (storage/uri_secrets.h: the URI's credentials and
// session tokens and Redis passwords, found before parsing, and the environment's) is collected
// before anything can fail; input enters a message only through quote(), which withholds text that
// shares bytes with a secret, and every message is scrubbed again, so that no mistake in a URI
// echoes a secret.
#include "s3db/connection.h"

#include "coord/redis_connection.h"
#include "core/encoding.h"
#include "storage/uri_secrets.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <vector>

namespace s3db {
namespace {

using Env = std::function<std::optional<std::string>(std::string_view)>;
// Strict decoding ('+' stays '+': secrets and tokens contain it; a bad escape is an error).
using encoding::percent_decode;
constexpr auto npos = std::string_view::npos;

constexpr std::string_view kContext = "connection string";
constexpr long kMaxObjectBytes = 5'497'558'138'880;  // 5 TiB, S3's largest object
// Sorted: the unknown-parameter message lists them. The shared limit's are every kind's.
const std::vector<std::string_view> kCommonParams = {
    "breaker", "concurrency", "concurrency_max", "concurrency_min", "fallback_concurrency", "fallback_rate_share",
    "global_concurrency", "lease_ttl_ms", "max_retries", "rate_get", "rate_put", "redis", "redis_key",
    "retry_budget", "timeout_ms", "tuner"};
const std::vector<std::string_view> kS3Params = {
    "breaker", "ca_file", "concurrency", "concurrency_max", "concurrency_min", "connect_timeout_ms",
    "fallback_concurrency", "fallback_rate_share", "global_concurrency", "hedge", "hedge_budget",
    "lease_ttl_ms", "low_speed_limit", "low_speed_time_s", "max_object_bytes", "max_response_bytes", "max_retries", "path_style", "rate_get",
    "rate_put", "redis", "redis_key", "region", "retry_budget", "session_token", "timeout_ms", "tuner",
    "verify_tls"};
// The shared limit's params that mean something only with redis=.
const std::vector<std::string_view> kRedisOnlyParams = {"fallback_concurrency", "fallback_rate_share",
                                                        "lease_ttl_ms", "redis_key"};

std::string join(const std::vector<std::string_view>& items) {
  std::string out;
  for (auto s : items) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

// The whole of `text` as a number (from_chars: no sign but '-', no space), or nullopt.
template <typename T>
std::optional<T> parse_number(std::string_view text) {
  T n{};
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return n;
}

// A redis= value is a Redis URL: written raw ("redis://…", "unix://…") it is kept as it is — the
// Redis URL's own grammar decodes its user's and password's escapes, so a URL is written the same
// here as anywhere else —, otherwise it is the URL percent-encoded whole, decoded once.
std::optional<std::string> redis_value(std::string_view raw) {
  if (raw.starts_with("redis://") || raw.starts_with("unix://")) return std::string(raw);
  return percent_decode(raw);
}

std::string trim_slashes(std::string_view s) {
  while (!s.empty() && s.front() == '/') s.remove_prefix(1);
  while (!s.empty() && s.back() == '/') s.remove_suffix(1);
  return std::string(s);
}

bool valid_s3_bucket(std::string_view b, bool strict) {
  if (strict ? (b.size() < 3 || b.size() > 63) : (b.empty() || b.size() > 255)) return false;
  for (char c : b) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
                    (!strict && ((c >= 'A' && c <= 'Z') || c == '_'));
    if (!ok) return false;
  }
  if (strict) {
    auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (!alnum(b.front()) || !alnum(b.back())) return false;
  }
  return true;
}

// host[:port] of a custom endpoint: a name or IPv4 address (A-Z a-z 0-9 . -) or a bracketed IPv6
// literal, and an optional port 1-65535.
struct HostPort {
  enum Error { kNone, kUnterminatedIpv6, kTextAfterIpv6, kHost, kPort };
  std::string_view host, port;
  Error error = kNone;
};

HostPort split_host_port(std::string_view hostport) {
  HostPort hp;
  hp.host = hostport;
  bool has_port = false;
  if (!hostport.empty() && hostport.front() == '[') {
    const auto close = hostport.find(']');
    if (close == npos) return {hostport, {}, HostPort::kUnterminatedIpv6};
    hp.host = hostport.substr(0, close + 1);
    const std::string_view after = hostport.substr(close + 1);
    if (!after.empty() && after.front() != ':') return {hp.host, {}, HostPort::kTextAfterIpv6};
    has_port = !after.empty();
    if (has_port) hp.port = after.substr(1);
  } else if (const auto colon = hostport.find(':'); colon != npos) {
    hp.host = hostport.substr(0, colon);
    hp.port = hostport.substr(colon + 1);
    has_port = true;
  }
  const bool host_ok = !hp.host.empty() && (hp.host.front() == '[' || std::all_of(hp.host.begin(), hp.host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
  }));
  if (!host_ok) hp.error = HostPort::kHost;
  else if (const auto n = parse_number<int>(hp.port); has_port && (!n || *n < 1 || *n > 65535)) hp.error = HostPort::kPort;
  return hp;
}

class Parser {
 public:
  Parser(std::string_view uri, const Env& env) : uri_(uri), env_(env) {}

  Result<ConnectionOptions> parse();

 private:
  // An InvalidArgument whose message never contains a collected secret.
  Status fail(std::string detail) const { return Status::InvalidArgument(kContext, secrets_.scrub(std::move(detail))); }
  // How a piece of the input enters a message: 'text', or '***' when it may hold part of a secret.
  std::string quote(std::string_view text) const { return secrets_.quote(text); }
  // The bucket or host right after the credentials' '@' is shown only when there are none: when
  // it is invalid, that '@' was likely one of the secret's and the text a piece of the secret.
  std::string quote_after_credentials(std::string_view text) const {
    return had_userinfo_ ? std::string("(not shown: it follows the credentials; percent-encode '@' in a secret as %40)")
                         : quote(text);
  }
  std::optional<std::string> env(std::string_view name) const {
    if (!env_) return std::nullopt;
    auto v = env_(name);
    if (v && v->empty()) return std::nullopt;
    return v;
  }

  // A parameter's decoded value, nullptr when it is not given.
  const std::string* param(std::string_view name) const {
    auto it = params_.find(name);
    return it == params_.end() ? nullptr : &it->second;
  }
  // A given parameter's value as a number in [min, max], or an error naming it.
  Result<long> integer(std::string_view name, long min, long max) const;
  Result<double> decimal(std::string_view name, double min, double max, std::string_view expected) const;

  void collect_secrets();
  Status check_control_bytes() const;
  Result<std::size_t> credentials_end(std::string_view rest, bool aws) const;
  Status parse_params(std::string_view query, bool s3, ConnectionOptions& o);
  Status parse_pool_params(bool remote, ConnectionOptions& o);
  Status parse_shared_params(SharedLimitConfig& s);
  Status parse_redis_param(SharedLimitConfig& s);
  Status parse_userinfo(std::string_view userinfo, ConnectionOptions& o);
  Status parse_bucket_and_prefix(std::string_view path, ConnectionOptions& o, bool strict_bucket);
  Status apply_s3_fallbacks(ConnectionOptions& o, bool had_userinfo, bool aws);

  std::string_view uri_;
  const Env& env_;
  storage::SecretFilter secrets_;
  bool had_userinfo_ = false;
  std::vector<storage::UriSpan> redis_values_;  // where the redis= values are in uri_
  std::map<std::string, std::string, std::less<>> params_;
};

Result<long> Parser::integer(std::string_view name, long min, long max) const {
  const std::string& v = *param(name);
  const auto n = parse_number<long>(v);
  if (!n || *n < min || *n > max) {
    return fail("parameter '" + std::string(name) + "' must be an integer in " + std::to_string(min) + ".." +
                std::to_string(max) + ", got " + quote(v));
  }
  return *n;
}

Result<double> Parser::decimal(std::string_view name, double min, double max, std::string_view expected) const {
  const std::string& v = *param(name);
  const auto n = parse_number<double>(v);
  if (!n || !(*n >= min && *n <= max)) {  // NaN fails too
    return fail("parameter '" + std::string(name) + "' must be " + std::string(expected) + ", got " + quote(v));
  }
  return *n;
}

void Parser::collect_secrets() {
  secrets_.add_spans_of(uri_);
  redis_values_ = storage::param_value_spans(uri_, "redis");
  if (auto s = env("AWS_SECRET_ACCESS_KEY")) secrets_.add(*s);
  if (auto s = env("AWS_SESSION_TOKEN")) secrets_.add(*s);
}

// One check for the whole string: a control byte, raw or percent-encoded, is refused wherever it
// is. C APIs would cut a path short at a NUL (file:///data%00/x would open /data), and HTTP
// headers cannot carry them; no bucket, prefix, secret or parameter needs one.
Status Parser::check_control_bytes() const {
  for (std::size_t i = 0; i < uri_.size(); ++i) {
    int c = static_cast<unsigned char>(uri_[i]);
    bool encoded = false;
    if (const int byte = c == '%' ? encoding::hex_byte(uri_, i + 1) : -1; byte >= 0) {
      c = byte;
      encoded = true;
    }
    if (c < 0x20 || c == 0x7F) {
      const char byte = static_cast<char>(c);
      return fail("control character (byte 0x" + encoding::to_hex({&byte, 1}, encoding::HexCase::kUpper) +
                  (encoded ? ", percent-encoded" : "") + ") not allowed in a connection string");
    }
  }
  return Status::OK();
}

// Where the credentials of an s3:// or http(s):// string end: the index of their '@' in `rest`
// (the text after "://"), or npos when there are none. The secret should percent-encode '/', '?',
// '#', '@' and '%' (RFC 3986 userinfo), but raw ones are understood when that is unambiguous: the
// credentials end at the '@' followed by a valid bucket (s3://) or host[:port] (http) and then
// '/', '?' or the end. Two such '@' (a raw '@' in the secret, or an '@' in the prefix) are an
// error rather than a guess: a wrong guess would send a piece of the secret as the bucket name. An
// '@' in a redis= value is the Redis URL's, never the end of these credentials.
Result<std::size_t> Parser::credentials_end(std::string_view rest, bool aws) const {
  const std::size_t base = static_cast<std::size_t>(rest.data() - uri_.data());
  const auto next_at = [&](std::size_t from) {
    auto at = rest.find('@', from);
    while (at != npos && storage::inside(redis_values_, base + at)) at = rest.find('@', at + 1);
    return at;
  };
  const auto key_end = rest.find_first_of(":/?#@");  // an access key has none of these
  if (key_end == npos || next_at(key_end) == npos) return npos;
  if (rest[key_end] == '@') return fail("credentials must be KEY:SECRET@ (percent-encode special characters)");
  if (rest[key_end] != ':') return npos;  // '/' or '?' first: the '@' is in the prefix or a parameter
  // RFC 3986: the authority ends at the first '/' or '?'. A valid host:port there means the ':'
  // was the port's and the '@' belongs to the path or the query.
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?"));
  if (!aws && authority.find('@') == npos && split_host_port(authority).error == HostPort::kNone) return npos;
  std::size_t chosen = npos, last = npos;
  int valid = 0;
  for (auto at = next_at(key_end); at != npos; at = next_at(at + 1)) {
    last = at;
    const auto end = rest.find_first_of("/?@", at + 1);
    if (end != npos && rest[end] == '@') continue;
    const std::string_view after = rest.substr(at + 1, end == npos ? npos : end - at - 1);
    if (aws ? !valid_s3_bucket(after, true) : split_host_port(after).error != HostPort::kNone) continue;
    chosen = at;
    ++valid;
    if (end != npos && rest[end] == '?') break;  // the query begins: an '@' in it is a value's
  }
  if (valid > 1) {
    return fail(std::string("ambiguous credentials: more than one '@' is followed by a valid ") +
                (aws ? "bucket" : "host") + " (write '@' as %40 in the secret, or in the prefix)");
  }
  return valid == 1 ? chosen : last;
}

Status Parser::parse_params(std::string_view query, bool s3, ConnectionOptions& o) {
  const auto& allowed = s3 ? kS3Params : kCommonParams;
  for (std::size_t start = 0; start < query.size();) {
    auto amp = query.find('&', start);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view item = query.substr(start, amp - start);
    start = amp + 1;
    if (item.empty()) continue;
    const auto eq = item.find('=');
    auto name = percent_decode(item.substr(0, eq));
    if (!name) return fail("invalid percent-encoding in a parameter name");
    if (std::find(allowed.begin(), allowed.end(), *name) == allowed.end()) {
      return fail("unknown parameter " + quote(*name) + " (allowed: " + join(allowed) + ")");
    }
    if (eq == std::string_view::npos) return fail("parameter '" + *name + "' needs a value (" + *name + "=...)");
    auto value = *name == "redis" ? redis_value(item.substr(eq + 1)) : percent_decode(item.substr(eq + 1));
    if (!value) return fail("invalid percent-encoding in parameter '" + *name + "'");
    if (!params_.emplace(*name, *value).second) return fail("parameter '" + *name + "' given twice");
  }
  auto boolean = [&](std::string_view name) -> Result<bool> {
    const std::string& v = params_.find(name)->second;
    if (v == "true") return true;
    if (v == "false") return false;
    return fail("parameter '" + std::string(name) + "' must be true or false, got " + quote(v));
  };
  if (params_.count("timeout_ms")) {
    auto n = integer("timeout_ms", 0, 86'400'000);
    if (!n.ok()) return n.status();
    o.timeout = std::chrono::milliseconds(*n);
  } else if (s3) {
    o.timeout = ConnectionOptions::kDefaultRemoteTimeout;
  }
  if (params_.count("connect_timeout_ms")) {
    auto n = integer("connect_timeout_ms", 0, 3'600'000);
    if (!n.ok()) return n.status();
    o.connect_timeout = std::chrono::milliseconds(*n);
  }
  if (params_.count("low_speed_limit")) {
    auto n = integer("low_speed_limit", 0, 1'000'000'000);
    if (!n.ok()) return n.status();
    o.low_speed_limit = *n;
  }
  if (params_.count("low_speed_time_s")) {
    auto n = integer("low_speed_time_s", 0, 86'400);
    if (!n.ok()) return n.status();
    o.low_speed_time = std::chrono::seconds(*n);
  }
  if (params_.count("max_response_bytes")) {
    auto n = integer("max_response_bytes", 1024, kMaxObjectBytes);
    if (!n.ok()) return n.status();
    o.max_response_bytes = static_cast<std::uint64_t>(*n);
  }
  if (params_.count("max_object_bytes")) {
    auto n = integer("max_object_bytes", 1, kMaxObjectBytes);
    if (!n.ok()) return n.status();
    o.max_object_bytes = static_cast<std::uint64_t>(*n);
  }
  S3DB_RETURN_IF_ERROR(parse_pool_params(s3, o));
  S3DB_RETURN_IF_ERROR(parse_shared_params(o.shared));
  if (params_.count("max_retries")) {
    auto n = integer("max_retries", 0, 1000);
    if (!n.ok()) return n.status();
    o.max_retries = static_cast<int>(*n);
  }
  if (const std::string* v = param("hedge")) {
    if (*v != "on" && *v != "off") return fail("parameter 'hedge' must be on or off, got " + quote(*v));
    o.hedge = *v == "on";
  }
  if (param("hedge_budget")) {
    auto f = decimal("hedge_budget", 0.001, 1, "a share of requests in 0.001..1 (0.05 = 5 %)");
    if (!f.ok()) return f.status();
    o.hedge_budget = *f;
  }
  if (params_.count("verify_tls")) {
    auto b = boolean("verify_tls");
    if (!b.ok()) return b.status();
    o.verify_tls = *b;
  }
  if (auto it = params_.find("region"); it != params_.end()) {
    const bool ok = !it->second.empty() && std::all_of(it->second.begin(), it->second.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    });
    if (!ok) return fail("parameter 'region' must look like us-east-1, got " + quote(it->second));
    o.region = it->second;
  }
  if (auto it = params_.find("session_token"); it != params_.end()) {
    if (it->second.empty()) return fail("parameter 'session_token' is empty");
    o.session_token = it->second;
  }
  if (auto it = params_.find("ca_file"); it != params_.end()) {
    if (it->second.empty()) return fail("parameter 'ca_file' is empty (give the path of a PEM CA bundle)");
    o.ca_file = it->second;
  }
  return Status::OK();
}

// The pool's params, and the remote stores' defaults for them (s3db/connection.h).
Status Parser::parse_pool_params(bool remote, ConnectionOptions& o) {
  if (const std::string* v = param("concurrency"); v && *v == "auto") {
    o.concurrency = ConnectionOptions::kAutoConcurrency;
  } else if (v) {
    auto n = integer("concurrency", 1, 100'000);
    if (!n.ok()) return fail("parameter 'concurrency' must be auto or an integer in 1..100000, got " + quote(*v));
    o.concurrency = static_cast<int>(*n);
  }
  // Auto by default for a remote store: behind a store that throttles above a request rate, the
  // tuner (slow start, then a send rate learnt from the throttles) reached 90 % of the rate with
  // 0.4 % of requests throttled where a fixed 50 reached 69 % with 35 % throttled —
  // docs/performance.md, "The pool protects the store". A number still fixes the limit.
  if (remote && !o.concurrency) o.concurrency = ConnectionOptions::kAutoConcurrency;
  const bool is_auto = o.concurrency == ConnectionOptions::kAutoConcurrency;
  if (const std::string* v = param("tuner")) {
    if (*v == "aimd") o.tuner = TunerKind::kAimd;
    else if (*v == "note") o.tuner = TunerKind::kNote;
    else return fail("parameter 'tuner' must be aimd or note, got " + quote(*v));
  }
  for (auto [name, field] : {std::pair{"concurrency_min", &o.concurrency_min}, {"concurrency_max", &o.concurrency_max}}) {
    if (!param(name)) continue;
    auto n = integer(name, 1, 100'000);
    if (!n.ok()) return n.status();
    *field = static_cast<int>(*n);
  }
  if (!is_auto && (o.tuner || o.concurrency_min || o.concurrency_max)) {
    return fail("parameters 'tuner', 'concurrency_min' and 'concurrency_max' need concurrency=auto");
  }
  if (o.concurrency_min && o.concurrency_max && *o.concurrency_min > *o.concurrency_max) {
    return fail("parameter 'concurrency_min' must not exceed 'concurrency_max'");
  }
  if (const std::string* v = param("breaker")) {
    if (*v != "on" && *v != "off") return fail("parameter 'breaker' must be on or off, got " + quote(*v));
    o.breaker = *v == "on";
  } else if (remote) {
    o.breaker = true;
  }
  if (const std::string* v = param("retry_budget"); v && *v == "off") {
    o.retry_budget = 0;
  } else if (v) {
    auto n = integer("retry_budget", 1, 1'000'000);
    if (!n.ok()) return fail("parameter 'retry_budget' must be off or a token count in 1..1000000, got " + quote(*v));
    o.retry_budget = static_cast<int>(*n);
  }
  // No retry budget by default either: behind a store that throttled above its rate, a fixed
  // concurrency of 200 with the budget on failed 961 of 3,000 imported records once the bucket
  // was empty, where patient throttled retries store them all (docs/performance.md). The breaker
  // covers outages; the budget is for callers who prefer failing fast to waiting.
  return Status::OK();
}

// The shared limit's params (s3db/shared_limit.h), every store's: a local rate cap on memory://
// is as legitimate as one shared through Redis. A 0 is refused where the default is "none"
// (global_concurrency, the rates): leaving the parameter out says that, and a 0 written is more
// likely an unset variable than a wish.
Status Parser::parse_shared_params(SharedLimitConfig& s) {
  if (param("redis")) S3DB_RETURN_IF_ERROR(parse_redis_param(s));
  for (std::string_view name : kRedisOnlyParams) {
    if (param(name) && s.redis_url.empty()) return fail("parameter '" + std::string(name) + "' needs a Redis URL (redis)");
  }
  if (const std::string* key = param("redis_key")) {
    if (key->empty()) return fail("parameter 'redis_key' is empty");
    s.key = *key;
  }
  if (param("global_concurrency")) {
    auto n = integer("global_concurrency", 1, 100'000);
    if (!n.ok()) return n.status();
    s.global_concurrency = static_cast<int>(*n);
  }
  for (auto [name, rate] : {std::pair{"rate_put", &s.rate_put}, {"rate_get", &s.rate_get}}) {
    if (!param(name)) continue;
    auto r = decimal(name, 0.001, 1e9, "a rate in requests per second, 0.001..1e9 (decimals allowed)");
    if (!r.ok()) return r.status();
    *rate = *r;
  }
  if (param("lease_ttl_ms")) {
    auto n = integer("lease_ttl_ms", 100, 3'600'000);
    if (!n.ok()) return n.status();
    s.lease_ttl = std::chrono::milliseconds(*n);
  }
  if (param("fallback_concurrency")) {
    auto n = integer("fallback_concurrency", 0, 100'000);
    if (!n.ok()) return n.status();
    s.fallback = static_cast<int>(*n);
  }
  if (param("fallback_rate_share")) {
    auto f = decimal("fallback_rate_share", 0, 1, "a share in 0..1 (decimals allowed)");
    if (!f.ok()) return f.status();
    s.fallback_rate_share = *f;
  }
  // The rules between fields (global_concurrency needs redis, redis must share something) are
  // check()'s; its message names the field, here said as the parameter that sets it.
  const Status st = check(s);
  if (st.ok()) return st;
  const std::string& m = st.message();
  const auto colon = m.find(": ");
  std::string field = m.substr(0, colon);
  if (field == "lease_ttl") field = "lease_ttl_ms";
  if (field == "fallback") field = "fallback_concurrency";
  return fail("parameter '" + field + "' " + (colon == npos ? std::string("is invalid") : m.substr(colon + 2)));
}

// The Redis URL's syntax is checked now (coord's parser, the one the Client uses), so that a
// mistake is reported with the connection string, not when the Client joins; its errors name the
// part that is wrong, never the password (nor anything of the URL: it may hold one).
Status Parser::parse_redis_param(SharedLimitConfig& s) {
  const std::string& url = *param("redis");
  auto u = coord::parse_redis_url(url);
  if (!u.ok()) {
    std::string why = u.status().message();
    if (const auto colon = why.find(": "); colon != npos) why.erase(0, colon + 2);
    return fail("parameter 'redis' must be redis://[[user]:password@]host[:port][/db] or unix:///path[?db=N]: " + why +
                " (percent-encode a password's '%', '/', '&', '#' as %25 %2F %26 %23)");
  }
  secrets_.add(u->password);
  s.redis_url = url;
  return Status::OK();
}

Status Parser::parse_userinfo(std::string_view userinfo, ConnectionOptions& o) {
  const auto colon = userinfo.find(':');
  auto key = percent_decode(userinfo.substr(0, colon));
  auto secret = percent_decode(userinfo.substr(colon + 1));
  if (!key || !secret) return fail("invalid percent-encoding in the credentials");
  if (key->empty() || secret->empty()) return fail("credentials must be KEY:SECRET, both non-empty");
  o.access_key = *key;
  o.secret_key = *secret;
  secrets_.add(*secret);
  return Status::OK();
}

Status Parser::parse_bucket_and_prefix(std::string_view path, ConnectionOptions& o, bool strict_bucket) {
  const auto slash = path.find('/');
  auto bucket = percent_decode(path.substr(0, slash));
  auto prefix = percent_decode(slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1));
  if (!bucket || !prefix) return fail("invalid percent-encoding in the bucket or prefix");
  if (o.kind == StorageKind::kS3) {
    if (bucket->empty()) return fail("missing bucket name");
    if (!valid_s3_bucket(*bucket, strict_bucket)) {
      if (bucket->find(':') != std::string::npos) {
        // Probably KEY:SECRET with an unencoded character: do not echo it.
        return fail("invalid bucket name (if this is KEY:SECRET@..., percent-encode the secret's special characters)");
      }
      return fail("invalid bucket name " + quote_after_credentials(*bucket) + " (" +
                  (strict_bucket ? "3-63 characters: a-z 0-9 . -" : "1-255 characters: A-Z a-z 0-9 . _ -") + ")");
    }
  }
  o.bucket = *bucket;
  o.prefix = trim_slashes(*prefix);
  return Status::OK();
}

Status Parser::apply_s3_fallbacks(ConnectionOptions& o, bool had_userinfo, bool aws) {
  if (!had_userinfo) {
    auto key = env("AWS_ACCESS_KEY_ID");
    auto secret = env("AWS_SECRET_ACCESS_KEY");
    if (key.has_value() != secret.has_value()) {
      return fail(key ? "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"
                      : "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
    }
    if (key) {
      o.access_key = *key;
      o.secret_key = *secret;
      // The session token belongs to the environment's credentials, never to the URI's.
      if (o.session_token.empty()) {
        if (auto t = env("AWS_SESSION_TOKEN")) o.session_token = *t;
      }
    }
  }
  if (!params_.count("region")) {
    if (auto r = env("AWS_REGION")) o.region = *r;
    else if (auto d = env("AWS_DEFAULT_REGION")) o.region = *d;
  }
  if (aws) {
    if (auto ep = env("AWS_ENDPOINT_URL")) {
      std::string_view e = *ep;
      while (!e.empty() && e.back() == '/') e.remove_suffix(1);
      const bool http = e.starts_with("http://"), https = e.starts_with("https://");
      std::string_view host = e.substr(http ? 7 : https ? 8 : 0);
      if ((!http && !https) || host.empty() || host.find_first_of("/?#@") != std::string_view::npos) {
        return fail("AWS_ENDPOINT_URL must be http(s)://host[:port], got '" + redact_uri(e) + "'");
      }
      o.endpoint = std::string(e);
      o.path_style = true;
    }
  }
  if (params_.count("path_style")) {
    const std::string& v = params_.find("path_style")->second;
    if (v != "true" && v != "false") return fail("parameter 'path_style' must be true or false, got " + quote(v));
    o.path_style = v == "true";
  }
  return Status::OK();
}

Result<ConnectionOptions> Parser::parse() {
  collect_secrets();
  S3DB_RETURN_IF_ERROR(check_control_bytes());
  const auto sep = uri_.find("://");
  if (sep == std::string_view::npos || sep == 0) {
    return fail("missing scheme: expected memory://, file://, s3://, http:// or https://");
  }
  std::string scheme(uri_.substr(0, sep));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  });
  std::string_view rest = uri_.substr(sep + 3);
  if (rest.find('#') != std::string_view::npos) return fail("'#' is not allowed (percent-encode it as %23)");
  const bool aws = scheme == "s3";
  const bool remote = aws || scheme == "http" || scheme == "https";
  std::string_view userinfo;
  if (remote) {
    auto at = credentials_end(rest, aws);
    if (!at.ok()) return at.status();
    if (*at != npos) {
      userinfo = rest.substr(0, *at);
      rest.remove_prefix(*at + 1);
      had_userinfo_ = true;
    }
  }
  const auto q = rest.find('?');
  std::string_view body = rest.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view{} : rest.substr(q + 1);

  ConnectionOptions o;
  if (scheme == "memory") {
    o.kind = StorageKind::kMemory;
    if (body.find('@') != std::string_view::npos) return fail("memory:// takes no credentials");
    S3DB_RETURN_IF_ERROR(parse_params(query, false, o));
    S3DB_RETURN_IF_ERROR(parse_bucket_and_prefix(body, o, false));
    return o;
  }
  if (scheme == "file") {
    o.kind = StorageKind::kFile;
    S3DB_RETURN_IF_ERROR(parse_params(query, false, o));
    auto path = percent_decode(body);
    if (!path) return fail("invalid percent-encoding in the path");
    std::filesystem::path p(*path);
    if (path->starts_with("./") || path->starts_with("../") || *path == "." || *path == "..") {
      std::error_code ec;
      auto cwd = std::filesystem::current_path(ec);
      if (ec) return fail("cannot resolve a relative path: " + ec.message());
      p = cwd / p;
    } else if (!path->starts_with("/")) {
      return fail("file:// needs an absolute path (file:///abs/dir) or a relative one (file://./dir)");
    }
    std::string normal = p.lexically_normal().string();
    while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
    o.path = normal;
    return o;
  }
  if (!remote) return fail("unsupported scheme " + quote(scheme + "://") + " (expected memory, file, s3, http or https)");
  o.kind = StorageKind::kS3;
  S3DB_RETURN_IF_ERROR(parse_params(query, true, o));
  if (had_userinfo_) S3DB_RETURN_IF_ERROR(parse_userinfo(userinfo, o));
  if (aws) {
    S3DB_RETURN_IF_ERROR(parse_bucket_and_prefix(body, o, true));
  } else {
    const auto slash = body.find('/');
    std::string_view hostport = body.substr(0, slash);
    if (hostport.empty()) return fail("missing host in " + scheme + "://host[:port]/bucket");
    const HostPort hp = split_host_port(hostport);
    switch (hp.error) {
      case HostPort::kNone: break;
      case HostPort::kUnterminatedIpv6: return fail("unterminated IPv6 address");
      case HostPort::kTextAfterIpv6: return fail("unexpected text after the IPv6 address");
      case HostPort::kHost: return fail("invalid host " + quote_after_credentials(hp.host));
      case HostPort::kPort: {
        // Only a number is shown: "K:SECRET/..." with a forgotten '@' puts the secret here.
        const bool digits = !hp.port.empty() && hp.port.find_first_not_of("0123456789") == npos;
        return fail(digits ? "invalid port " + quote(hp.port) + " (1-65535)" : std::string("invalid port (1-65535)"));
      }
    }
    if (slash == std::string_view::npos || slash + 1 >= body.size()) {
      return fail("missing bucket: expected " + scheme + "://host[:port]/bucket[/prefix]");
    }
    o.endpoint = scheme + "://" + std::string(hostport);
    o.path_style = true;
    S3DB_RETURN_IF_ERROR(parse_bucket_and_prefix(body.substr(slash + 1), o, false));
  }
  S3DB_RETURN_IF_ERROR(apply_s3_fallbacks(o, had_userinfo_, aws));
  return o;
}

std::optional<std::string> process_env(std::string_view name) {
  const char* v = std::getenv(std::string(name).c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

}  // namespace

Result<ConnectionOptions> ConnectionOptions::FromUri(std::string_view uri) {
  return FromUriWithEnv(uri, process_env);
}

Result<ConnectionOptions> ConnectionOptions::FromUriWithEnv(std::string_view uri, const Env& env) {
  return Parser(uri, env).parse();
}

}  // namespace s3db
