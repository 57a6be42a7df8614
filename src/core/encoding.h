// Internal: THE home of the byte-level text encodings every layer uses — UTF-8 validation, hex and
// percent-encoding. Pure functions, thread-safe, no allocation beyond the returned string.
//
// Contract
//   valid_utf8(s)        true iff s is well-formed UTF-8 (RFC 3629): no overlong forms, no UTF-16
//                        surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no truncated or
//                        stray continuation byte, no 0xC0 0xC1 0xF5..0xFF byte. "" is valid.
//   utf8_length(s)       code points of a valid s (bytes that are not continuation bytes).
//   to_hex(b[, case])    two digits a byte, lower-case unless asked ("\x01\xAB" → "01ab").
//   from_hex(t)          exactly the inverse of lower-case to_hex: nullopt on an odd length or any
//                        character outside 0-9 a-f (one spelling per byte string).
//   hex_byte(s, pos)     the byte the two hex digits (either case) at s[pos], s[pos + 1] spell;
//                        -1 when s ends before them or either is not a hex digit.
//   percent_encode(s, k) bytes in the set k kept, every other byte → %XX (upper-case hex,
//                        RFC 3986 §2.1).
//   percent_decode(s)    strict: %XX (either case) → byte; nullopt when a '%' is not followed by
//                        two hex digits ("%", "%4", "%zz"); '+' stays '+'.
//   percent_decode_lenient(s, plus_is_space)
//                        for text that must not fail (server listings, secrets to withhold): a
//                        malformed escape is kept literally; '+' → ' ' only with plus_is_space
//                        (form encoding: S3's encoding-type=url listings).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace s3db::encoding {

// ---- UTF-8 ----

bool valid_utf8(std::string_view s) noexcept;
std::size_t utf8_length(std::string_view s) noexcept;

// ---- hex ----

enum class HexCase { kLower, kUpper };

std::string to_hex(std::string_view bytes, HexCase letters = HexCase::kLower);
std::optional<std::string> from_hex(std::string_view text);
int hex_byte(std::string_view s, std::size_t pos) noexcept;

// ---- percent-encoding ----

// A set of bytes (which percent_encode keeps as they are).
class ByteSet {
 public:
  constexpr ByteSet() = default;
  static constexpr ByteSet range(unsigned char first, unsigned char last) {
    ByteSet s;
    for (unsigned c = first; c <= last; ++c) s.set(static_cast<unsigned char>(c), true);
    return s;
  }
  constexpr ByteSet with(std::string_view chars) const { return changed(chars, true); }
  constexpr ByteSet without(std::string_view chars) const { return changed(chars, false); }
  constexpr ByteSet operator|(const ByteSet& o) const {
    ByteSet s;
    for (std::size_t i = 0; i < bits_.size(); ++i) s.bits_[i] = bits_[i] | o.bits_[i];
    return s;
  }
  constexpr bool contains(unsigned char c) const noexcept { return (bits_[c >> 6] >> (c & 63)) & 1; }

 private:
  constexpr void set(unsigned char c, bool on) {
    const std::uint64_t bit = std::uint64_t{1} << (c & 63);
    bits_[c >> 6] = on ? bits_[c >> 6] | bit : bits_[c >> 6] & ~bit;
  }
  constexpr ByteSet changed(std::string_view chars, bool on) const {
    ByteSet s = *this;
    for (char c : chars) s.set(static_cast<unsigned char>(c), on);
    return s;
  }
  std::array<std::uint64_t, 4> bits_{};
};

// A-Z a-z 0-9.
inline constexpr ByteSet kAlnum = ByteSet::range('A', 'Z') | ByteSet::range('a', 'z') | ByteSet::range('0', '9');
// RFC 3986 §2.3 unreserved: A-Z a-z 0-9 - . _ ~ (SigV4 canonical strings, connection strings).
inline constexpr ByteSet kUnreserved = kAlnum.with("-._~");
// Unreserved plus '/': S3 object key paths, where '/' separates nothing but stays readable.
inline constexpr ByteSet kUnreservedAndSlash = kUnreserved.with("/");

std::string percent_encode(std::string_view s, const ByteSet& keep);
void append_percent_encoded(std::string& out, std::string_view s, const ByteSet& keep);
// Appends "%XX" for one byte: for callers whose rule depends on a byte's position.
void append_percent_escape(std::string& out, unsigned char c);

std::optional<std::string> percent_decode(std::string_view s);
std::string percent_decode_lenient(std::string_view s, bool plus_is_space = false);

}  // namespace s3db::encoding
