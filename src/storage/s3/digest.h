// Internal: the hashes SigV4 and S3 need (OpenSSL). Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace s3db::s3 {

std::string to_hex(std::string_view bytes);            // lower-case hex
std::string sha256(std::string_view data);             // 32 raw bytes
std::string sha256_hex(std::string_view data);         // 64 hex chars (x-amz-content-sha256)
std::string hmac_sha256(std::string_view key, std::string_view data);  // 32 raw bytes
std::string md5_base64(std::string_view data);         // Content-MD5 header value
std::string base64_encode(std::string_view data);
// Standard alphabet; false on malformed input.
bool base64_decode(std::string_view in, std::string& out);

// SHA-256 of the empty payload, the x-amz-content-sha256 of every bodiless request.
inline constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

}  // namespace s3db::s3
