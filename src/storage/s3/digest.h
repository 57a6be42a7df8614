// Internal: THE home of the digests storage needs (OpenSSL): SigV4's hashes and HMACs, the MD5
// ETags the embedded clients compute, Content-MD5, base64. Pure functions, thread-safe.
// A digest OpenSSL cannot compute (an allocation failure; MD5 in a FIPS-only build) throws
// std::runtime_error rather than returning a wrong or empty value.
#pragma once

#include "core/encoding.h"

#include <string>
#include <string_view>

namespace s3db::s3 {

std::string sha256(std::string_view data);             // 32 raw bytes
std::string sha256_hex(std::string_view data);         // 64 hex chars (x-amz-content-sha256)
std::string md5_hex(std::string_view data);            // 32 hex chars: S3's ETag of a single-part object
std::string hmac_sha256(std::string_view key, std::string_view data);  // 32 raw bytes
std::string md5_base64(std::string_view data);         // Content-MD5 header value
std::string base64_encode(std::string_view data);
// Standard alphabet; false on malformed input.
bool base64_decode(std::string_view in, std::string& out);

// SHA-256 of the empty payload, the x-amz-content-sha256 of every bodiless request.
inline constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

}  // namespace s3db::s3
