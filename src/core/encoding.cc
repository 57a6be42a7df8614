#include "core/encoding.h"

#include <cstring>

namespace s3db::encoding {
namespace {

constexpr char kLowerDigits[] = "0123456789abcdef";
constexpr char kUpperDigits[] = "0123456789ABCDEF";

bool is_continuation(unsigned char c) noexcept { return (c & 0xC0) == 0x80; }

int hex_digit_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes. `strict`: a malformed escape fails (nullopt); otherwise it is kept as text.
std::optional<std::string> decode(std::string_view s, bool strict, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%') {
      if (const int byte = hex_byte(s, i + 1); byte >= 0) {
        out += static_cast<char>(byte);
        i += 2;
        continue;
      }
      if (strict) return std::nullopt;
    }
    out += (plus_is_space && c == '+') ? ' ' : c;
  }
  return out;
}

}  // namespace

bool valid_utf8(std::string_view s) noexcept {
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    // Keys and ids are mostly ASCII: skip 8 ASCII bytes at a time.
    if (i + 8 <= n) {
      std::uint64_t word;
      std::memcpy(&word, s.data() + i, 8);
      if ((word & 0x8080808080808080ULL) == 0) { i += 8; continue; }
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) { ++i; continue; }
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
    else return false;  // a continuation byte with no lead, or 0xF8..0xFF
    if (len > n - i) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if (!is_continuation(cc)) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};  // shortest form by length
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

std::size_t utf8_length(std::string_view s) noexcept {
  std::size_t n = 0;
  for (char c : s) n += !is_continuation(static_cast<unsigned char>(c));
  return n;
}

std::string to_hex(std::string_view bytes, HexCase letters) {
  const char* digits = letters == HexCase::kUpper ? kUpperDigits : kLowerDigits;
  std::string out(bytes.size() * 2, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = digits[c >> 4];
    out[2 * i + 1] = digits[c & 0xF];
  }
  return out;
}

std::optional<std::string> from_hex(std::string_view text) {
  // Lower-case only: each byte string has one spelling, so tokens compare as text.
  if (text.size() % 2 != 0 || text.find_first_of("ABCDEF") != std::string_view::npos) return std::nullopt;
  std::string out(text.size() / 2, '\0');
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int byte = hex_byte(text, 2 * i);
    if (byte < 0) return std::nullopt;
    out[i] = static_cast<char>(byte);
  }
  return out;
}

int hex_byte(std::string_view s, std::size_t pos) noexcept {
  if (pos >= s.size() || s.size() - pos < 2) return -1;
  const int hi = hex_digit_value(s[pos]), lo = hex_digit_value(s[pos + 1]);
  return hi < 0 || lo < 0 ? -1 : hi << 4 | lo;
}

void append_percent_escape(std::string& out, unsigned char c) {
  const char escape[3] = {'%', kUpperDigits[c >> 4], kUpperDigits[c & 0xF]};
  out.append(escape, 3);
}

void append_percent_encoded(std::string& out, std::string_view s, const ByteSet& keep) {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (keep.contains(c)) {
      out += ch;
    } else {
      append_percent_escape(out, c);
    }
  }
}

std::string percent_encode(std::string_view s, const ByteSet& keep) {
  std::string out;
  out.reserve(s.size() + s.size() / 2);
  append_percent_encoded(out, s, keep);
  return out;
}

std::optional<std::string> percent_decode(std::string_view s) {
  return decode(s, /*strict=*/true, /*plus_is_space=*/false);
}

std::string percent_decode_lenient(std::string_view s, bool plus_is_space) {
  return *decode(s, /*strict=*/false, plus_is_space);
}

}  // namespace s3db::encoding
