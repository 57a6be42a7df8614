// Secret spans of connection strings, redact_uri() and SecretFilter (contract in uri_secrets.h).
#include "storage/uri_secrets.h"

#include "s3db/connection.h"
#include "core/encoding.h"

#include <algorithm>

namespace s3db {
namespace storage {

namespace {
constexpr auto npos = std::string_view::npos;
constexpr std::size_t kWindow = 4;  // shared bytes that make a quoted text suspect
}  // namespace

namespace {

bool is_port(std::string_view s) {
  return !s.empty() && s.size() <= 5 && s.find_first_not_of("0123456789") == npos;
}

// Where a parameter value starting at `from` ends: at the next '&' that starts another plausible
// parameter ("&name="), so that a raw '&' inside a token does not end it early.
std::size_t value_end(std::string_view uri, std::size_t from) {
  for (auto amp = uri.find('&', from); amp != npos; amp = uri.find('&', amp + 1)) {
    std::size_t i = amp + 1;
    while (i < uri.size() && ((uri[i] >= 'a' && uri[i] <= 'z') || uri[i] == '_')) ++i;
    if (i > amp + 1 && i < uri.size() && uri[i] == '=') return amp;
  }
  return uri.size();
}

// `raw` percent-decoded leniently, with the offset in `raw` of each decoded byte (and of its end).
struct Decoded {
  std::string text;
  std::vector<std::size_t> at;
};

Decoded decode_tracking(std::string_view raw) {
  Decoded d;
  for (std::size_t i = 0; i < raw.size();) {
    const int byte = raw[i] == '%' ? encoding::hex_byte(raw, i + 1) : -1;
    d.at.push_back(i);
    d.text.push_back(byte >= 0 ? static_cast<char>(byte) : raw[i]);
    i += byte >= 0 ? 3 : 1;
  }
  d.at.push_back(raw.size());
  return d;
}

// The last '@' of `uri` outside `skip`.
std::size_t last_at_outside(std::string_view uri, const std::vector<UriSpan>& skip) {
  for (auto at = uri.rfind('@'); at != npos; at = at == 0 ? npos : uri.rfind('@', at - 1)) {
    if (!inside(skip, at)) return at;
  }
  return npos;
}

}  // namespace

bool inside(const std::vector<UriSpan>& spans, std::size_t pos) {
  return std::any_of(spans.begin(), spans.end(), [pos](const UriSpan& s) { return pos >= s.begin && pos < s.end; });
}

std::vector<UriSpan> param_value_spans(std::string_view uri, std::string_view name) {
  std::vector<UriSpan> spans;
  const auto sep = uri.find("://");
  for (auto p = uri.find_first_of("?&", sep == npos ? 0 : sep + 3); p != npos; p = uri.find_first_of("?&", p + 1)) {
    const std::size_t begin = p + 1;
    const auto eq = uri.find('=', begin);
    if (eq == npos || uri.substr(begin, eq - begin).find('&') != npos) continue;
    if (encoding::percent_decode_lenient(uri.substr(begin, eq - begin)) == name) spans.push_back({eq + 1, value_end(uri, eq + 1)});
  }
  return spans;
}

UriSpan redis_url_secret(std::string_view url) {
  // Read decoded (twice more at most, until its "://" shows: an encoded password in an encoded
  // URL): decoding only adds '@' and ':' to the text, so the span can only grow by it.
  Decoded d = decode_tracking(url);
  for (int round = 0; round < 2 && d.text.find("://") == npos && d.text.find('%') != npos; ++round) {
    Decoded again = decode_tracking(d.text);
    for (std::size_t& at : again.at) at = d.at[at];
    d = std::move(again);
  }
  const std::string_view t = d.text;
  const auto scheme = t.find("://");
  if (scheme == npos) return {0, url.size()};  // nothing tells a host from a password here
  const std::size_t start = scheme + 3;
  const auto at = t.rfind('@');
  const auto colon = t.find(':', start);
  UriSpan s{start, start};
  if (at != npos && at >= start) {
    s = {colon < at ? colon + 1 : start, at};
  } else if (colon != npos && !is_port(t.substr(colon + 1, t.find_first_of("/?", colon) - colon - 1))) {
    s = {colon + 1, t.size()};  // ":password" with its '@' forgotten
  }
  return {d.at[s.begin], d.at[s.end]};
}

std::vector<UriSpan> secret_spans(std::string_view uri) {
  std::vector<UriSpan> spans;
  const auto sep = uri.find("://");
  const std::size_t start = sep == npos ? 0 : sep + 3;
  const std::vector<UriSpan> redis = param_value_spans(uri, "redis");
  // An access key never contains '/', '?', '#' or '@': a ':' met first may end one.
  const auto key_end = uri.find_first_of(":/?#@", start);
  const bool key_colon = key_end != npos && uri[key_end] == ':';
  const auto last_at = last_at_outside(uri, redis);  // a redis= value's '@' is the Redis URL's
  if (last_at != npos && last_at >= start) {
    // The credentials end at some '@'; which one, only a successful parse can tell: everything
    // before the last one may be secret, but for a "KEY:" head.
    spans.push_back({key_colon && key_end < last_at ? key_end + 1 : start, last_at});
  } else if (key_colon && !is_port(uri.substr(key_end + 1, uri.find_first_of("/?#", key_end) - key_end - 1))) {
    spans.push_back({key_end + 1, uri.size()});  // "KEY:SECRET" with its '@' forgotten
  }
  for (const UriSpan& v : param_value_spans(uri, "session_token")) spans.push_back(v);
  for (const UriSpan& v : redis) {
    const UriSpan s = redis_url_secret(uri.substr(v.begin, v.end - v.begin));
    if (s.end > s.begin) spans.push_back({v.begin + s.begin, v.begin + s.end});
  }
  return spans;
}

void SecretFilter::add(std::string_view secret) {
  std::string s(secret);
  for (int round = 0; round < 3 && !s.empty(); ++round) {
    if (std::find(secrets_.begin(), secrets_.end(), s) == secrets_.end()) secrets_.push_back(s);
    std::string decoded = encoding::percent_decode_lenient(s);
    if (decoded == s) break;
    s = std::move(decoded);
  }
  std::sort(secrets_.begin(), secrets_.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
}

void SecretFilter::add_spans_of(std::string_view uri) {
  for (const UriSpan& s : secret_spans(uri)) add(uri.substr(s.begin, s.end - s.begin));
}

bool SecretFilter::reveals(std::string_view text) const {
  if (text.empty()) return false;
  for (const std::string& secret : secrets_) {
    if (secret.size() < kWindow || text.size() < kWindow) {
      if (text.find(secret) != npos || secret.find(text) != npos) return true;
      continue;
    }
    for (std::size_t i = 0; i + kWindow <= text.size(); ++i) {
      if (secret.find(text.substr(i, kWindow)) != npos) return true;
    }
  }
  return false;
}

std::string SecretFilter::quote(std::string_view text) const {
  if (reveals(text)) return "'***'";
  std::string out;
  out.reserve(text.size() + 2);
  out += '\'';
  out += text;
  out += '\'';
  return out;
}

std::string SecretFilter::scrub(std::string message) const {
  for (const std::string& secret : secrets_) {
    for (auto pos = message.find(secret); pos != npos; pos = message.find(secret, pos + 3)) {
      message.replace(pos, secret.size(), "***");
    }
  }
  return message;
}

}  // namespace storage

std::string redact_uri(std::string_view uri) {
  std::vector<storage::UriSpan> spans = storage::secret_spans(uri);
  std::sort(spans.begin(), spans.end(), [](const auto& a, const auto& b) { return a.begin < b.begin; });
  std::string out;
  std::size_t at = 0;
  for (const storage::UriSpan& s : spans) {
    if (s.begin < at) {  // overlaps the span just masked: extend the mask
      at = std::max(at, s.end);
      continue;
    }
    out.append(uri.substr(at, s.begin - at));
    out += "***";
    at = s.end;
  }
  out.append(uri.substr(std::min(at, uri.size())));
  return out;
}

}  // namespace s3db
