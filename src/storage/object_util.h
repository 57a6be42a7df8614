// Internal helpers shared by the clients: argument checks that every client must apply
// identically, ETags and timestamps. (Digests: storage/s3/digest.h; encodings: core/encoding.h.)
#pragma once

#include "s3db/storage_client.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace s3db::storage {

// THE key check of every client. A key is 1..1024 bytes of valid UTF-8, and so is what a client
// sends: `prefix_bytes` is the length of the connection's prefix a client puts before each key
// (S3Client; 0 for the embedded clients). Anything else → InvalidArgument naming `op`, e.g.
// "put: empty key", "get <first 64 bytes>...: key is 1100 bytes; the limit is 1024 bytes of UTF-8".
[[nodiscard]] Status check_key(std::string_view op, std::string_view key, std::size_t prefix_bytes = 0);

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

// An ETag as clients report and compare it: a weak "W/" prefix dropped, then one pair of
// surrounding double quotes, or of "&quot;" (some servers escape them twice in XML), stripped:
// "\"abc\"", "W/\"abc\"", "&quot;abc&quot;" and "abc" are all "abc". Anything else is kept as is.
std::string_view unquote_etag(std::string_view etag) noexcept;

// Wall-clock now in Unix epoch milliseconds (object timestamps are calendar times).
std::int64_t now_unix_ms() noexcept;

// The cancellation status to report when the attempt was cancelled, else OK.
[[nodiscard]] inline Status check_cancelled(const OpContext& ctx) {
  return ctx.cancelled() ? ctx.cancel_status() : Status::OK();
}

}  // namespace s3db::storage
