#include "storage/listing.h"

#include "core/encoding.h"

#include <algorithm>

namespace s3db::storage {
namespace {

constexpr std::string_view kTokenVersion = "s3db1";

// Token: "s3db1" + ('k' key | 'p' common prefix) + lower-case hex(marker). Opaque to callers.
std::string encode_token(std::string_view marker, bool is_prefix) {
  std::string t(kTokenVersion);
  t += is_prefix ? 'p' : 'k';
  t += encoding::to_hex(marker);
  return t;
}

bool decode_token(std::string_view token, std::string& marker, bool& is_prefix) {
  if (token.size() < kTokenVersion.size() + 1 || token.substr(0, kTokenVersion.size()) != kTokenVersion)
    return false;
  const char kind = token[kTokenVersion.size()];
  if (kind != 'k' && kind != 'p') return false;
  is_prefix = kind == 'p';
  std::string_view hex = token.substr(kTokenVersion.size() + 1);
  if (hex.empty()) return false;
  auto decoded = encoding::from_hex(hex);
  if (!decoded) return false;
  marker = std::move(*decoded);
  return true;
}

}  // namespace

std::optional<std::string> prefix_successor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty() && static_cast<unsigned char>(s.back()) == 0xFF) s.pop_back();
  if (s.empty()) return std::nullopt;
  s.back() = static_cast<char>(static_cast<unsigned char>(s.back()) + 1);
  return s;
}

Result<ResumePoint> resume_point(const ListRequest& request) {
  // Where to resume: after the token's entry, else after start_after, else at the prefix.
  ResumePoint at;
  at.bound = request.prefix;
  auto move_past = [&](const std::string& marker, bool is_prefix) {
    if (is_prefix) {
      auto succ = prefix_successor(marker);
      if (!succ) { at.at_end = true; return; }
      if (*succ > at.bound) { at.bound = std::move(*succ); at.inclusive = true; }
    } else if (marker >= at.bound) {
      at.bound = marker;
      at.inclusive = false;
    }
  };
  if (!request.continuation_token.empty()) {
    std::string marker;
    bool is_prefix = false;
    if (!decode_token(request.continuation_token, marker, is_prefix)) {
      return Status::InvalidArgument("list " + request.prefix, "malformed continuation token");
    }
    move_past(marker, is_prefix);
  } else if (!request.start_after.empty()) {
    move_past(request.start_after, false);
  }
  return at;
}

bool ResumePoint::admits(std::string_view key) const noexcept {
  return !at_end && (inclusive ? key >= bound : key > bound);
}

Result<KeyPage> paginate(const ListRequest& request, const NextKey& next) {
  const std::size_t max_keys = static_cast<std::size_t>(std::clamp(request.max_keys, 1, 1000));
  const std::string& prefix = request.prefix;
  const std::string& delim = request.delimiter;
  auto at = resume_point(request);
  if (!at.ok()) return at.status();
  std::string bound = std::move(at->bound);
  bool inclusive = at->inclusive;
  bool at_end = at->at_end;

  KeyPage page;
  std::size_t count = 0;
  std::string last;
  bool last_is_prefix = false;
  while (!at_end) {
    auto key = next(bound, inclusive);
    if (!key || !key->starts_with(prefix)) break;
    // The entry this key contributes: itself, or its common prefix under the delimiter.
    std::string_view rest = key->substr(prefix.size());
    std::size_t cut = delim.empty() ? std::string_view::npos : rest.find(delim);
    if (count == max_keys) {
      page.truncated = true;
      break;
    }
    if (cut != std::string_view::npos) {
      std::string cp(key->substr(0, prefix.size() + cut + delim.size()));
      page.common_prefixes.push_back(cp);
      last = cp;
      last_is_prefix = true;
      auto succ = prefix_successor(cp);
      if (!succ) at_end = true;
      else { bound = std::move(*succ); inclusive = true; }
    } else {
      page.keys.emplace_back(*key);
      last = page.keys.back();
      last_is_prefix = false;
      bound = last;
      inclusive = false;
    }
    ++count;
  }
  if (page.truncated) page.next_continuation_token = encode_token(last, last_is_prefix);
  return page;
}

}  // namespace s3db::storage
