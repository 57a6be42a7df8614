#include "storage/s3/metadata_codec.h"

#include "s3db/metadata.h"

#include "core/encoding.h"
#include "storage/s3/digest.h"
#include "storage/s3/strcat.h"

#include <cctype>

namespace s3db::s3 {

namespace {
bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// Decodes one "=?charset?B|Q?text?=" word (UTF-8 or ASCII charsets only).
bool decode_word(std::string_view word, std::string& out) {
  if (word.size() < 8 || word.substr(0, 2) != "=?" || word.substr(word.size() - 2) != "?=") {
    return false;
  }
  std::string_view inner = word.substr(2, word.size() - 4);
  auto q1 = inner.find('?');
  if (q1 == std::string_view::npos || q1 + 2 >= inner.size() || inner[q1 + 2] != '?') return false;
  std::string_view charset = inner.substr(0, q1);
  if (!iequals(charset, "UTF-8") && !iequals(charset, "US-ASCII")) return false;
  char enc = static_cast<char>(std::toupper(static_cast<unsigned char>(inner[q1 + 1])));
  std::string_view text = inner.substr(q1 + 3);
  if (enc == 'B') return base64_decode(text, out);
  if (enc != 'Q') return false;
  out.clear();
  for (std::size_t i = 0; i < text.size(); ++i) {
    const int byte = text[i] == '=' ? encoding::hex_byte(text, i + 1) : -1;  // "=XX"
    if (text[i] == '_') {
      out += ' ';
    } else if (byte >= 0) {
      out += static_cast<char>(byte);
      i += 2;
    } else {
      out += text[i];
    }
  }
  return true;
}
}  // namespace

std::string encode_metadata_value(std::string_view value) {
  // metadata_value_size() counts exactly this form: keep the two in step.
  if (metadata_value_is_plain(value)) return std::string(value);
  return cat("=?UTF-8?B?", base64_encode(value), "?=");
}

std::string decode_metadata_value(std::string_view value) {
  if (value.substr(0, 2) != "=?") return std::string(value);
  // A value may hold several encoded words separated by whitespace (RFC 2047 §6.2: the
  // whitespace between adjacent encoded words is dropped).
  std::string out;
  std::size_t pos = 0;
  while (pos < value.size()) {
    while (pos < value.size() && (value[pos] == ' ' || value[pos] == '\t')) ++pos;
    if (pos >= value.size()) break;
    std::size_t end = value.find("?=", pos + 2);
    // The word ends at the "?=" after the charset and encoding markers.
    std::size_t q = value.find('?', pos + 2);
    if (q != std::string_view::npos) q = value.find('?', q + 1);
    if (q != std::string_view::npos) end = value.find("?=", q + 1);
    if (end == std::string_view::npos) return std::string(value);
    std::string part;
    if (!decode_word(value.substr(pos, end + 2 - pos), part)) return std::string(value);
    out += part;
    pos = end + 2;
  }
  return out;
}

}  // namespace s3db::s3
