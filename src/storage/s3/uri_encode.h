// Internal: AWS-style percent-encoding (SigV4 canonical URIs and query strings) and decoding.
// Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace s3db::s3 {

// RFC 3986 unreserved characters (A-Z a-z 0-9 - _ . ~) are kept, every other byte becomes %XX
// with upper-case hex; '/' is kept when encode_slash is false (object key paths).
std::string uri_encode(std::string_view s, bool encode_slash = true);

// Decodes %XX escapes; with plus_is_space, '+' becomes ' ' (form encoding, which S3 uses for
// encoding-type=url listings). Malformed escapes are kept literally.
std::string percent_decode(std::string_view s, bool plus_is_space = false);

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, ≤ U+10FFFF).
bool is_valid_utf8(std::string_view s) noexcept;

}  // namespace s3db::s3
