// Internal helpers shared by the embedded clients (memory, file): argument checks that every
// client must apply identically, ETags and timestamps.
#pragma once

#include "s3db/storage_client.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace s3db::storage {

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, ≤ U+10FFFF).
bool valid_utf8(std::string_view s) noexcept;

// Keys are UTF-8, 1..1024 bytes: anything else → InvalidArgument "<op> <key>: ...".
[[nodiscard]] Status check_key(std::string_view op, std::string_view key);

// Lower-cases ASCII letters of metadata keys (S3 does so on the wire).
Metadata normalize_metadata(const Metadata& metadata);
// True when some metadata key has an upper-case ASCII letter (normalize_metadata would change it).
bool has_upper_case_key(const Metadata& metadata) noexcept;

// 64-bit FNV-1a: a hash that is the same in every process and build (std::hash promises neither),
// for striping keys over locks and shards.
std::uint64_t fnv1a(std::string_view data) noexcept;

// InvalidArgument naming the size and the limit when metadata exceeds kMaxMetadataBytes.
[[nodiscard]] Status check_metadata_limit(std::string_view op, std::string_view key,
                                          const Metadata& metadata);

// put's If-None-Match / If-Match against the current object's ETag (`existing` null = no object):
// AlreadyExists or PreconditionFailed worded alike by every embedded client.
[[nodiscard]] Status check_put_conditions(const PutRequest& req, const std::string* existing_etag);

// copy's argument rules, shared by the embedded clients: both keys valid, and a copy onto itself
// only with the REPLACE directive (S3 refuses one that changes nothing). On success `context` is
// "copy SRC -> DST" for later messages.
[[nodiscard]] Status check_copy(const CopyRequest& req, std::string& context);

// Applies a REPLACE directive to the copied object's metadata and content type (COPY keeps both).
void apply_copy_directive(const CopyRequest& req, Metadata& metadata, std::string& content_type);

// The content type an object reports when its writer gave none.
inline constexpr std::string_view kDefaultContentType = "application/octet-stream";

// Hex MD5 of the body: S3's ETag of a single-part object.
std::string md5_hex(std::string_view data);
// Hex SHA-256 (file names of long keys).
std::string sha256_hex(std::string_view data);

// Strips surrounding double quotes ("\"abc\"" → "abc") so that callers may pass either form.
std::string_view unquote_etag(std::string_view etag) noexcept;

// Wall-clock now in Unix epoch milliseconds (object timestamps are calendar times).
std::int64_t now_unix_ms() noexcept;

// The cancellation status to report when the attempt was cancelled, else OK.
[[nodiscard]] inline Status check_cancelled(const OpContext& ctx) {
  return ctx.cancelled() ? ctx.cancel_status() : Status::OK();
}

}  // namespace s3db::storage
