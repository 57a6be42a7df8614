#include "storage/object_util.h"

#include "core/encoding.h"

#include <algorithm>
#include <chrono>
#include <string>

namespace s3db::storage {

namespace {
constexpr std::size_t kMaxKeyBytes = 1024;  // S3's limit, in bytes of UTF-8
}  // namespace

Status check_key(std::string_view op, std::string_view key, std::size_t prefix_bytes) {
  if (key.empty()) return Status::InvalidArgument(std::string(op), "empty key");
  if (key.size() + prefix_bytes > kMaxKeyBytes) {
    std::string size = std::to_string(key.size()) + " bytes";
    if (prefix_bytes > 0) size += " (" + std::to_string(key.size() + prefix_bytes) + " with the connection's prefix)";
    return Status::InvalidArgument(std::string(op) + " " + std::string(key.substr(0, 64)) + "...",
                                   "key is " + size + "; the limit is 1024 bytes of UTF-8");
  }
  if (!encoding::valid_utf8(key)) return Status::InvalidArgument(std::string(op), "key is not valid UTF-8");
  return Status::OK();
}

bool has_upper_case_key(const Metadata& metadata) noexcept {
  return std::any_of(metadata.begin(), metadata.end(), [](const auto& kv) {
    return std::any_of(kv.first.begin(), kv.first.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
  });
}

std::uint64_t fnv1a(std::string_view data) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : data) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

Metadata normalize_metadata(const Metadata& metadata) {
  // Usually every key is lower-case already: a plain copy is cheaper than rebuilding it.
  if (!has_upper_case_key(metadata)) return metadata;
  Metadata out;
  for (const auto& [k, v] : metadata) {
    std::string lower = k;
    for (char& c : lower) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    out.insert_or_assign(std::move(lower), v);
  }
  return out;
}

Status check_put_conditions(const PutRequest& req, const std::string* existing_etag) {
  if (req.if_none_match && existing_etag != nullptr) {
    return Status::AlreadyExists("put " + req.key, "object already exists (If-None-Match: *)");
  }
  if (!req.if_match.empty()) {
    const std::string_view want = unquote_etag(req.if_match);
    if (existing_etag == nullptr) {
      return Status::PreconditionFailed("put " + req.key, "object does not exist (If-Match)");
    }
    if (*existing_etag != want) {
      return Status::PreconditionFailed("put " + req.key,
                                        "ETag is " + *existing_etag + ", If-Match wanted " + std::string(want));
    }
  }
  return Status::OK();
}

Status check_copy(const CopyRequest& req, std::string& context) {
  S3DB_RETURN_IF_ERROR(check_key("copy", req.source_key));
  S3DB_RETURN_IF_ERROR(check_key("copy", req.dest_key));
  context = "copy " + req.source_key + " -> " + req.dest_key;
  if (req.source_key == req.dest_key && req.directive == MetadataDirective::kCopy) {
    return Status::InvalidArgument(context, "copying an object onto itself needs the REPLACE directive");
  }
  return Status::OK();
}

void apply_copy_directive(const CopyRequest& req, Metadata& metadata, std::string& content_type) {
  if (req.directive != MetadataDirective::kReplace) return;
  metadata = normalize_metadata(req.metadata);
  if (!req.content_type.empty()) content_type = req.content_type;
}

Status check_metadata_limit(std::string_view op, std::string_view key, const Metadata& metadata) {
  const std::size_t size = metadata_size(metadata);
  if (size <= kMaxMetadataBytes) return Status::OK();
  return Status::InvalidArgument(std::string(op) + " " + std::string(key),
                                 "user metadata is " + std::to_string(size) +
                                     " bytes as S3 counts it (names + values as sent); the limit is " +
                                     std::to_string(kMaxMetadataBytes) + " bytes");
}

std::string_view unquote_etag(std::string_view etag) noexcept {
  if (etag.starts_with("W/")) etag.remove_prefix(2);
  for (std::string_view quote : {std::string_view("\""), std::string_view("&quot;")}) {
    if (etag.size() >= 2 * quote.size() && etag.starts_with(quote) && etag.ends_with(quote)) {
      return etag.substr(quote.size(), etag.size() - 2 * quote.size());
    }
  }
  return etag;
}

std::int64_t now_unix_ms() noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace s3db::storage
