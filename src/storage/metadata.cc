// The 2 KB user-metadata count (s3db/metadata.h): what S3 receives, hence what it counts.
#include "s3db/metadata.h"

namespace s3db {

bool metadata_value_is_plain(std::string_view v) noexcept {
  if (v.empty()) return true;
  if (v.front() == ' ' || v.back() == ' ') return false;
  if (v.substr(0, 2) == "=?") return false;
  char prev = 0;
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7E) return false;
    if (c == ' ' && prev == ' ') return false;
    prev = c;
  }
  return true;
}

std::size_t metadata_value_size(std::string_view v) noexcept {
  if (metadata_value_is_plain(v)) return v.size();
  // "=?UTF-8?B?" + base64 (padded) + "?=": the form the S3 client sends (s3/metadata_codec.h).
  return 12 + 4 * ((v.size() + 2) / 3);
}

std::size_t metadata_size(const Metadata& metadata) noexcept {
  std::size_t total = 0;
  for (const auto& [key, value] : metadata) total += key.size() + metadata_value_size(value);
  return total;
}

}  // namespace s3db
