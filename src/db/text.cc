#include "db/text.h"

#include <s3db/metadata.h>

#include "core/encoding.h"

#include <charconv>
#include <cmath>

#include <array>

namespace s3db::db {
namespace {
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<std::int8_t, 256> make_b64_table() {
  std::array<std::int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(kB64[i])] = static_cast<std::int8_t>(i);
  return t;
}
constexpr auto kB64Table = make_b64_table();

// Whether byte i of value must be percent-encoded once the value is escaped.
inline bool must_encode(std::string_view v, std::size_t i, bool header) {
  const auto c = static_cast<unsigned char>(v[i]);
  if (c == '%') return true;
  if (i == 0 && c == '~') return true;
  if (!header) return false;
  if (c < 0x20 || c > 0x7E) return true;
  // A leading or trailing space, or the second of two: an escaped value is then header-safe as
  // is (metadata_value_is_plain), so the S3 client never re-encodes it and S3 counts its size.
  return c == ' ' && (i == 0 || i + 1 == v.size() || v[i - 1] == ' ');
}

inline bool needs_escape(std::string_view v, bool header) {
  if (v.empty() || v.front() == '~') return true;
  if (!header) return false;
  return !metadata_value_is_plain(v);  // what the S3 client would otherwise re-encode
}
}  // namespace

std::string base64url_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() * 4 + 2) / 3);
  std::size_t i = 0;
  auto byte = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(in[k])); };
  for (; i + 3 <= in.size(); i += 3) {
    const std::uint32_t v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    out += kB64[v >> 18 & 63]; out += kB64[v >> 12 & 63]; out += kB64[v >> 6 & 63]; out += kB64[v & 63];
  }
  if (in.size() - i == 1) {
    const std::uint32_t v = byte(i) << 16;
    out += kB64[v >> 18 & 63]; out += kB64[v >> 12 & 63];
  } else if (in.size() - i == 2) {
    const std::uint32_t v = byte(i) << 16 | byte(i + 1) << 8;
    out += kB64[v >> 18 & 63]; out += kB64[v >> 12 & 63]; out += kB64[v >> 6 & 63];
  }
  return out;
}

std::optional<std::string> base64url_decode(std::string_view in) {
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(in.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const int v = kB64Table[static_cast<unsigned char>(c)];
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

std::string to_base36(std::int64_t v) {
  char buf[16];
  int n = 0;
  // Work on the magnitude as unsigned so that INT64_MIN is representable.
  std::uint64_t u = v < 0 ? ~static_cast<std::uint64_t>(v) + 1 : static_cast<std::uint64_t>(v);
  do {
    const auto d = static_cast<int>(u % 36);
    buf[n++] = static_cast<char>(d < 10 ? '0' + d : 'a' + d - 10);
    u /= 36;
  } while (u != 0);
  std::string out;
  out.reserve(static_cast<std::size_t>(n) + 1);
  if (v < 0) out += '-';
  while (n > 0) out += buf[--n];
  return out;
}

std::optional<std::int64_t> from_base36(std::string_view s) {
  bool neg = false;
  if (!s.empty() && s.front() == '-') { neg = true; s.remove_prefix(1); }
  if (s.empty() || s.size() > 13) return std::nullopt;
  std::uint64_t u = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'z') d = c - 'a' + 10;
    else return std::nullopt;
    const std::uint64_t next = u * 36 + static_cast<std::uint64_t>(d);
    if (next / 36 != u) return std::nullopt;  // overflow
    u = next;
  }
  const std::uint64_t limit = neg ? (std::uint64_t{1} << 63) : (std::uint64_t{1} << 63) - 1;
  if (u > limit) return std::nullopt;
  if (neg) return static_cast<std::int64_t>(~u + 1);
  return static_cast<std::int64_t>(u);
}

namespace {

// The value of the n digits at pos; -1 when they are not all there or not all digits.
int digits_value(std::string_view s, std::size_t pos, std::size_t n) {
  if (pos + n > s.size()) return -1;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

bool digits(std::string_view s, std::size_t pos, std::size_t n, int lo, int hi) {
  const int v = digits_value(s, pos, n);
  return v >= 0 && v >= lo && v <= hi;
}

int days_in_month(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

}  // namespace

// ISO-8601 / RFC 3339 subset: YYYY-MM-DD[THH:MM[:SS[.fraction]][Z|±HH:MM]], a real calendar day
// (2023-02-29 and 2024-04-31 are not dates).
bool valid_date(std::string_view s) {
  if (!digits(s, 0, 4, 0, 9999) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, 1, 12) ||
      s[7] != '-' || !digits(s, 8, 2, 1, 31)) {
    return false;
  }
  if (digits_value(s, 8, 2) > days_in_month(digits_value(s, 0, 4), digits_value(s, 5, 2))) return false;
  if (s.size() == 10) return true;
  if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') return false;
  std::size_t p = 11;
  if (!digits(s, p, 2, 0, 23) || p + 2 >= s.size() || s[p + 2] != ':' || !digits(s, p + 3, 2, 0, 59)) return false;
  p += 5;
  if (p < s.size() && s[p] == ':') {
    if (!digits(s, p + 1, 2, 0, 60)) return false;
    p += 3;
    if (p < s.size() && (s[p] == '.' || s[p] == ',')) {
      const std::size_t start = ++p;
      while (p < s.size() && s[p] >= '0' && s[p] <= '9') ++p;
      if (p == start) return false;
    }
  }
  if (p == s.size()) return true;
  if ((s[p] == 'Z' || s[p] == 'z') && p + 1 == s.size()) return true;
  if ((s[p] == '+' || s[p] == '-') && p + 6 == s.size()) {
    return digits(s, p + 1, 2, 0, 23) && s[p + 3] == ':' && digits(s, p + 4, 2, 0, 59);
  }
  return false;
}

void escape_value(std::string_view v, bool header, std::string& out) {
  if (!needs_escape(v, header)) {
    out.append(v);
    return;
  }
  out += '~';
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (must_encode(v, i, header)) {
      encoding::append_percent_escape(out, static_cast<unsigned char>(v[i]));
    } else {
      out += v[i];
    }
  }
}

std::size_t escaped_size(std::string_view v, bool header) noexcept {
  if (!needs_escape(v, header)) return v.size();
  std::size_t n = 1;
  for (std::size_t i = 0; i < v.size(); ++i) n += must_encode(v, i, header) ? 3 : 1;
  return n;
}

std::optional<std::string> unescape_value(std::string_view s) {
  if (s.empty() || s.front() != '~') return std::string(s);
  return encoding::percent_decode(s.substr(1));
}

std::string key_segment(std::string_view v) {
  // Printable ASCII but the key's separators ('/', '='), '%' itself and '\\'.
  static constexpr auto kSegmentBytes = encoding::ByteSet::range(0x21, 0x7E).without("/%=\\");
  return encoding::percent_encode(v, kSegmentBytes);
}

void dump_string(std::string_view s, std::string& out) {
  out += '"';
  bool ascii = true;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += encoding::to_hex({&ch, 1});  // lower-case, as dump() writes \u001f
        } else {
          ascii &= c < 0x80;
          out += ch;
        }
    }
  }
  out += '"';
  // Same contract as dump(): invalid UTF-8 is an error (nlohmann's type_error 316), not data.
  if (!ascii && !encoding::valid_utf8(s)) (void)nlohmann::json(std::string(s)).dump();
}

namespace {

template <typename T>
void dump_number(T v, std::string& out) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

}  // namespace

void dump_scalar(const Scalar& v, std::string& out) {
  switch (v.kind) {
    case Scalar::Kind::kBool: out += v.b ? "true" : "false"; return;
    case Scalar::Kind::kSigned: dump_number(v.i, out); return;
    case Scalar::Kind::kUnsigned: dump_number(v.u, out); return;
    case Scalar::Kind::kFloat: {
      if (!std::isfinite(v.d)) { out += "null"; return; }  // as dump(): JSON has no NaN/inf
      const std::size_t start = out.size();
      dump_number(v.d, out);
      if (out.find_first_of(".e", start) == std::string::npos) out += ".0";
      return;
    }
    case Scalar::Kind::kString: dump_string(v.str, out); return;
  }
}

void dump_json(const nlohmann::json& v, std::string& out) {
  using T = nlohmann::json::value_t;
  switch (v.type()) {
    case T::null: out += "null"; return;
    case T::boolean: case T::number_integer: case T::number_unsigned: case T::number_float: case T::string:
      dump_scalar(scalar_of(v), out);
      return;
    case T::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v) {
        if (!first) out += ',';
        first = false;
        dump_json(e, out);
      }
      out += ']';
      return;
    }
    case T::object: {
      out += '{';
      bool first = true;
      for (const auto& [k, e] : v.items()) {
        if (!first) out += ',';
        first = false;
        dump_string(k, out);
        out += ':';
        dump_json(e, out);
      }
      out += '}';
      return;
    }
    default: out += v.dump(); return;  // binary and discarded values: rare, keep dump()'s form
  }
}

}  // namespace s3db::db
