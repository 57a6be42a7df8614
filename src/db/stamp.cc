#include "db/stamp.h"

#include "db/ids.h"
#include "db/text.h"

#include <nlohmann/json.hpp>

namespace s3db::db {

WriteStamp WriteStamp::next(const WriteStamp* previous) {
  WriteStamp s;
  s.token = random_id(kTokenChars);
  s.seq = previous == nullptr ? 1 : previous->seq + 1;
  return s;
}

WriteStamp WriteStamp::parse(std::string_view text) {
  WriteStamp s;
  const auto dot = text.find('.');
  const std::string_view token = text.substr(0, dot);
  if (token.empty()) return s;
  if (dot != std::string_view::npos) {
    auto seq = from_base36(text.substr(dot + 1));
    if (!seq || *seq < 1) return s;
    s.seq = static_cast<std::uint64_t>(*seq);
  }
  s.token = std::string(token);
  return s;
}

std::string WriteStamp::text() const {
  std::string out;
  out.reserve(token.size() + 14);
  out += token;
  out += '.';
  out += to_base36(static_cast<std::int64_t>(seq));
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
