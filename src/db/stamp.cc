#include "db/stamp.h"

#include "db/ids.h"
#include "db/text.h"

#include <nlohmann/json.hpp>

namespace s3db::db {

WriteStamp WriteStamp::next(const WriteStamp* previous) {
  WriteStamp s;
  s.token = random_id(kTokenChars);
  if (previous == nullptr) {
    s.seq = 1;
    return s;
  }
  s.seq = previous->seq + 1;
  if (previous->token.empty()) return s;  // not an s3db body: nothing to remember
  // The previous token first, then the newest kHistory - 1 entries of the previous history.
  s.history.assign(previous->token, 0, kHistoryChars);
  std::string_view rest = previous->history;
  for (std::size_t kept = 1; !rest.empty() && kept < kHistory; ++kept) {
    const auto comma = rest.find(',');
    s.history += ',';
    s.history += rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  return s;
}

std::optional<bool> WriteStamp::had_token(std::uint64_t back, std::string_view t) const {
  if (back == 0 || token.empty()) return std::nullopt;
  std::size_t pos = 0;
  for (std::uint64_t i = 1; i < back; ++i) {
    pos = history.find(',', pos);
    if (pos == std::string::npos) return std::nullopt;
    ++pos;
  }
  if (pos >= history.size()) return std::nullopt;
  const auto comma = history.find(',', pos);
  const std::string_view entry = std::string_view(history).substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
  if (entry.empty()) return std::nullopt;
  return t.substr(0, entry.size()) == entry;
}

WriteStamp WriteStamp::parse(std::string_view text) {
  WriteStamp s;
  const auto comma = text.find(',');
  const std::string_view head = text.substr(0, comma);
  const auto dot = head.find('.');
  const std::string_view token = head.substr(0, dot);
  if (token.empty()) return s;
  if (dot != std::string_view::npos) {
    auto seq = from_base36(head.substr(dot + 1));
    if (!seq || *seq < 1) return s;
    s.seq = static_cast<std::uint64_t>(*seq);
  }
  s.token = std::string(token);
  if (comma != std::string_view::npos) s.history = std::string(text.substr(comma + 1));
  return s;
}

std::size_t WriteStamp::text_size() const noexcept {
  std::size_t digits = 1;
  for (std::uint64_t v = seq; v >= 36; v /= 36) ++digits;
  return token.size() + 1 + digits + (history.empty() ? 0 : history.size() + 1);
}

void WriteStamp::append_text(std::string& out) const {
  out += token;
  out += '.';
  char digits[16];
  int n = 0;
  std::uint64_t v = seq;
  do {
    const auto d = static_cast<int>(v % 36);
    digits[n++] = static_cast<char>(d < 10 ? '0' + d : 'a' + d - 10);
    v /= 36;
  } while (v != 0);
  while (n > 0) out += digits[--n];
  if (!history.empty()) {
    out += ',';
    out += history;
  }
}

std::string WriteStamp::text() const {
  std::string out;
  out.reserve(text_size());
  append_text(out);
  return out;
}

WriteStamp stamp_of_body(std::string_view body) {
  if (!body.empty() && body.front() == '~') return WriteStamp::parse(body.substr(1));
  if (body.empty() || body.front() != '{') return {};
  const auto parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) return {};
  auto it = parsed.find(kStampKey);
  if (it == parsed.end() || !it->is_string()) return {};
  return WriteStamp::parse(it->get_ref<const std::string&>());
}

}  // namespace s3db::db
