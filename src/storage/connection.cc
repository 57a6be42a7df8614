// ConnectionOptions::FromUri — strict, pure parsing of connection strings (grammar in
// s3db/connection.h; user documentation in docs/connection-strings.md).
//
// Secrets: everything that may be a secret (storage/uri_secrets.h: the URI's credentials and
// session tokens, found before parsing, and the environment's) is collected before anything can
// fail; input enters a message only through quote(), which withholds text that shares bytes with a
// secret, and every message is scrubbed again, so that no mistake in a URI echoes a secret.
#include "s3db/connection.h"

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
using encoding::percent_encode;
using encoding::kUnreserved;
using encoding::kUnreservedAndSlash;
constexpr auto npos = std::string_view::npos;

constexpr std::string_view kContext = "connection string";
constexpr long kMaxObjectBytes = 5'497'558'138'880;  // 5 TiB, S3's largest object
const std::vector<std::string_view> kCommonParams = {"breaker",         "concurrency", "concurrency_max",
                                                     "concurrency_min", "max_retries", "retry_budget",
                                                     "timeout_ms",      "tuner"};
const std::vector<std::string_view> kS3Params = {
    "breaker",         "ca_file",         "concurrency",        "concurrency_max",  "concurrency_min",
    "connect_timeout_ms", "low_speed_limit", "low_speed_time_s", "max_object_bytes", "max_response_bytes",
    "max_retries",     "path_style",      "region",             "retry_budget",     "session_token",
    "timeout_ms",      "tuner",           "verify_tls"};

std::string join(const std::vector<std::string_view>& items) {
  std::string out;
  for (auto s : items) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
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
  else if (has_port) {
    int n = 0;
    auto [p, ec] = std::from_chars(hp.port.data(), hp.port.data() + hp.port.size(), n);
    if (hp.port.empty() || ec != std::errc() || p != hp.port.data() + hp.port.size() || n < 1 || n > 65535) {
      hp.error = HostPort::kPort;
    }
  }
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

  void collect_secrets();
  Status check_control_bytes() const;
  Result<std::size_t> credentials_end(std::string_view rest, bool aws) const;
  Status parse_params(std::string_view query, bool s3, ConnectionOptions& o);
  Status parse_pool_params(bool remote, const std::function<Result<long>(std::string_view, long, long)>& integer,
                           ConnectionOptions& o);
  Status parse_userinfo(std::string_view userinfo, ConnectionOptions& o);
  Status parse_bucket_and_prefix(std::string_view path, ConnectionOptions& o, bool strict_bucket);
  Status apply_s3_fallbacks(ConnectionOptions& o, bool had_userinfo, bool aws);

  std::string_view uri_;
  const Env& env_;
  storage::SecretFilter secrets_;
  bool had_userinfo_ = false;
  std::map<std::string, std::string, std::less<>> params_;
};

void Parser::collect_secrets() {
  secrets_.add_spans_of(uri_);
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
// error rather than a guess: a wrong guess would send a piece of the secret as the bucket name.
Result<std::size_t> Parser::credentials_end(std::string_view rest, bool aws) const {
  const auto key_end = rest.find_first_of(":/?#@");  // an access key has none of these
  if (key_end == npos || rest.find('@', key_end) == npos) return npos;
  if (rest[key_end] == '@') return fail("credentials must be KEY:SECRET@ (percent-encode special characters)");
  if (rest[key_end] != ':') return npos;  // '/' or '?' first: the '@' is in the prefix or a parameter
  // RFC 3986: the authority ends at the first '/' or '?'. A valid host:port there means the ':'
  // was the port's and the '@' belongs to the path or the query.
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?"));
  if (!aws && authority.find('@') == npos && split_host_port(authority).error == HostPort::kNone) return npos;
  std::size_t chosen = npos, last = npos;
  int valid = 0;
  for (auto at = rest.find('@', key_end); at != npos; at = rest.find('@', at + 1)) {
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
    auto value = percent_decode(item.substr(eq + 1));
    if (!value) return fail("invalid percent-encoding in parameter '" + *name + "'");
    if (!params_.emplace(*name, *value).second) return fail("parameter '" + *name + "' given twice");
  }
  auto integer = [&](std::string_view name, long min, long max) -> Result<long> {
    const std::string& v = params_.find(name)->second;
    long n = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || p != v.data() + v.size() || v.empty() || n < min || n > max) {
      return fail("parameter '" + std::string(name) + "' must be an integer in " + std::to_string(min) + ".." +
                  std::to_string(max) + ", got " + quote(v));
    }
    return n;
  };
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
  S3DB_RETURN_IF_ERROR(parse_pool_params(s3, integer, o));
  if (params_.count("max_retries")) {
    auto n = integer("max_retries", 0, 1000);
    if (!n.ok()) return n.status();
    o.max_retries = static_cast<int>(*n);
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
Status Parser::parse_pool_params(bool remote, const std::function<Result<long>(std::string_view, long, long)>& integer,
                                 ConnectionOptions& o) {
  const auto text = [&](std::string_view name) -> const std::string* {
    auto it = params_.find(name);
    return it == params_.end() ? nullptr : &it->second;
  };
  if (const std::string* v = text("concurrency"); v && *v == "auto") {
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
  if (const std::string* v = text("tuner")) {
    if (*v == "aimd") o.tuner = TunerKind::kAimd;
    else if (*v == "note") o.tuner = TunerKind::kNote;
    else return fail("parameter 'tuner' must be aimd or note, got " + quote(*v));
  }
  for (auto [name, field] : {std::pair{"concurrency_min", &o.concurrency_min}, {"concurrency_max", &o.concurrency_max}}) {
    if (!text(name)) continue;
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
  if (const std::string* v = text("breaker")) {
    if (*v != "on" && *v != "off") return fail("parameter 'breaker' must be on or off, got " + quote(*v));
    o.breaker = *v == "on";
  } else if (remote) {
    o.breaker = true;
  }
  if (const std::string* v = text("retry_budget"); v && *v == "off") {
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

std::string ConnectionOptions::to_string() const {
  std::vector<std::pair<std::string, std::string>> params;
  auto add = [&](std::string name, std::string value) { params.emplace_back(std::move(name), std::move(value)); };
  std::string out;
  switch (kind) {
    case StorageKind::kMemory:
      out = "memory://" + percent_encode(bucket, kUnreserved);
      if (!prefix.empty()) out += "/" + percent_encode(prefix, kUnreservedAndSlash);
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
      if (!prefix.empty()) out += "/" + percent_encode(prefix, kUnreservedAndSlash);
      if (!custom || region != "us-east-1") add("region", region);
      if (!session_token.empty()) add("session_token", "***");
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
  std::sort(params.begin(), params.end());
  for (std::size_t i = 0; i < params.size(); ++i) {
    out += (i == 0 ? "?" : "&") + params[i].first + "=" + (params[i].second == "***" ? "***" : percent_encode(params[i].second, kUnreserved));
  }
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
