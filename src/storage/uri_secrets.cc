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

}  // namespace

std::vector<UriSpan> secret_spans(std::string_view uri) {
  std::vector<UriSpan> spans;
  const auto sep = uri.find("://");
  const std::size_t start = sep == npos ? 0 : sep + 3;
  // An access key never contains '/', '?', '#' or '@': a ':' met first may end one.
  const auto key_end = uri.find_first_of(":/?#@", start);
  const bool key_colon = key_end != npos && uri[key_end] == ':';
  const auto last_at = uri.rfind('@');
  if (last_at != npos && last_at >= start) {
    // The credentials end at some '@'; which one, only a successful parse can tell: everything
    // before the last one may be secret, but for a "KEY:" head.
    spans.push_back({key_colon && key_end < last_at ? key_end + 1 : start, last_at});
  } else if (key_colon && !is_port(uri.substr(key_end + 1, uri.find_first_of("/?#", key_end) - key_end - 1))) {
    spans.push_back({key_end + 1, uri.size()});  // "KEY:SECRET" with its '@' forgotten
  }
  for (auto p = uri.find_first_of("?&", start); p != npos; p = uri.find_first_of("?&", p + 1)) {
    const std::size_t name = p + 1;
    const auto eq = uri.find('=', name);
    if (eq == npos || uri.substr(name, eq - name).find('&') != npos) continue;
    if (encoding::percent_decode_lenient(uri.substr(name, eq - name)) == "session_token") spans.push_back({eq + 1, value_end(uri, eq + 1)});
  }
  return spans;
}

void SecretFilter::add(std::string_view secret) {
  if (secret.empty()) return;
  for (std::string s : {std::string(secret), encoding::percent_decode_lenient(secret)}) {
    if (!s.empty() && std::find(secrets_.begin(), secrets_.end(), s) == secrets_.end()) {
      secrets_.push_back(std::move(s));
    }
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
