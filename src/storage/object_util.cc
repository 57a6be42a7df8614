#include "storage/object_util.h"

#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>

namespace s3db::storage {

bool valid_utf8(std::string_view s) noexcept {
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    // Keys are mostly ASCII: skip 8 ASCII bytes at a time.
    if (i + 8 <= n) {
      std::uint64_t word;
      std::memcpy(&word, s.data() + i, 8);
      if ((word & 0x8080808080808080ULL) == 0) { i += 8; continue; }
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) { ++i; continue; }
    int len = 0;
    std::uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
    else return false;
    if (i + len > n) return false;
    for (int k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return false;
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

Status check_key(std::string_view op, std::string_view key) {
  if (key.empty()) return Status::InvalidArgument(std::string(op), "empty key");
  if (key.size() > 1024) {
    return Status::InvalidArgument(std::string(op) + " " + std::string(key.substr(0, 64)) + "...",
                                   "key is " + std::to_string(key.size()) +
                                       " bytes; the limit is 1024 bytes of UTF-8");
  }
  if (!valid_utf8(key)) return Status::InvalidArgument(std::string(op), "key is not valid UTF-8");
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

namespace {
// Hot path (every put computes an ETag): fetch the algorithm once and reuse one context per
// thread, instead of EVP_Digest's implicit fetch and context allocation on every call.
std::string digest_hex(const EVP_MD* md, std::string_view data) {
  struct Ctx {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Ctx() { EVP_MD_CTX_free(ctx); }
  };
  thread_local Ctx tl;
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (tl.ctx == nullptr || EVP_DigestInit_ex2(tl.ctx, md, nullptr) != 1 ||
      EVP_DigestUpdate(tl.ctx, data.data(), data.size()) != 1 || EVP_DigestFinal_ex(tl.ctx, out, &len) != 1) {
    return {};
  }
  static const char* hex = "0123456789abcdef";
  std::string s(len * 2, '0');
  for (unsigned int i = 0; i < len; ++i) {
    s[2 * i] = hex[out[i] >> 4];
    s[2 * i + 1] = hex[out[i] & 0xF];
  }
  return s;
}

const EVP_MD* fetched(const char* name) {
  EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);  // kept for the process's lifetime
  return md;
}
}  // namespace

std::string md5_hex(std::string_view data) {
  static const EVP_MD* md = fetched("MD5");
  return digest_hex(md, data);
}
std::string sha256_hex(std::string_view data) {
  static const EVP_MD* md = fetched("SHA256");
  return digest_hex(md, data);
}

std::string_view unquote_etag(std::string_view etag) noexcept {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') return etag.substr(1, etag.size() - 2);
  return etag;
}

std::int64_t now_unix_ms() noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace s3db::storage
