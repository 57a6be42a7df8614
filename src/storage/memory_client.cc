// MemoryClient: the whole store in one ordered map, for tests, benchmarks and memory:// databases.
//
// One std::map under a shared_mutex: lookups and listings share the lock, writers take it alone.
// An ordered map (not a hash map) because list() must page in UTF-8 byte order; a write costs
// O(log n) under the lock, which at ~1 µs per put is far below any storage round trip. Bodies
// are shared_ptr so that replacing an object never copies a body while the lock is held.
#include "storage/memory_client.h"

#include "storage/listing.h"
#include "storage/object_util.h"

#include <map>
#include <mutex>
#include <shared_mutex>

namespace s3db {
namespace storage {
namespace {

struct Entry {
  ObjectMeta meta;  // size, etag, content_type, last_modified_ms, metadata; key is the map's
  std::shared_ptr<const std::string> body;
};

class MemoryClient final : public StorageClient {
 public:
  MemoryClient(MemoryClientOptions options, std::string label)
      : options_(options), label_(std::move(label)) {}

  std::string_view kind() const noexcept override { return "memory"; }
  std::string describe() const override { return label_; }

  Result<PutResult> put(const PutRequest& req, OpContext& ctx) override {
    S3DB_RETURN_IF_ERROR(check_cancelled(ctx));
    S3DB_RETURN_IF_ERROR(check_key("put", req.key));
    Entry e;
    e.meta.metadata = normalize_metadata(req.metadata);
    if (options_.enforce_metadata_limit) {
      S3DB_RETURN_IF_ERROR(check_metadata_limit("put", req.key, e.meta.metadata));
    }
    e.meta.size = req.body.size();
    e.meta.etag = md5_hex(req.body);
    e.meta.content_type = req.content_type;
    e.meta.last_modified_ms = now_unix_ms();
    e.body = std::make_shared<const std::string>(req.body);
    PutResult result{e.meta.etag};

    std::unique_lock lock(mu_);
    auto it = objects_.find(req.key);
    S3DB_RETURN_IF_ERROR(check_conditions(req, it == objects_.end() ? nullptr : &it->second));
    if (it == objects_.end()) {
      objects_.emplace(req.key, std::move(e));
    } else {
      std::swap(it->second, e);  // the old entry is destroyed after the lock is released
      lock.unlock();
    }
    return result;
  }

  Result<Object> get(std::string_view key, OpContext& ctx) override {
    S3DB_RETURN_IF_ERROR(check_cancelled(ctx));
    S3DB_RETURN_IF_ERROR(check_key("get", key));
    std::shared_ptr<const std::string> body;
    Object out;
    {
      std::shared_lock lock(mu_);
      auto it = objects_.find(key);
      if (it == objects_.end()) return not_found("get", key);
      out.meta = it->second.meta;
      out.meta.key = it->first;
      body = it->second.body;
    }
    out.body = *body;
    return out;
  }

  Result<ObjectMeta> head(std::string_view key, OpContext& ctx) override {
    S3DB_RETURN_IF_ERROR(check_cancelled(ctx));
    S3DB_RETURN_IF_ERROR(check_key("head", key));
    std::shared_lock lock(mu_);
    auto it = objects_.find(key);
    if (it == objects_.end()) return not_found("head", key);
    ObjectMeta meta = it->second.meta;
    meta.key = it->first;
    return meta;
  }

  Status remove(std::string_view key, OpContext& ctx) override {
    S3DB_RETURN_IF_ERROR(check_cancelled(ctx));
    S3DB_RETURN_IF_ERROR(check_key("delete", key));
    Entry old;
    std::unique_lock lock(mu_);
    auto it = objects_.find(key);
    if (it != objects_.end()) {
      old = std::move(it->second);
      objects_.erase(it);
    }
    return Status::OK();  // a missing key is not an error (S3 semantics)
  }

  Result<DeleteManyResult> remove_many(const std::vector<std::string>& keys, OpContext& ctx) override {
    DeleteManyResult result;
    // Batches of 1,000 like S3, so that a cancellation stops between batches as it would there.
    for (std::size_t start = 0; start < keys.size(); start += 1000) {
      S3DB_RETURN_IF_ERROR(check_cancelled(ctx));
      const std::size_t end = std::min(keys.size(), start + 1000);
      std::unique_lock lock(mu_);
      for (std::size_t i = start; i < end; ++i) {
        Status s = check_key("delete", keys[i]);
        if (!s.ok()) {
          result.failed.emplace_back(keys[i], std::move(s));
          continue;
        }
        objects_.erase(keys[i]);
        ++result.deleted;
      }
    }
    return result;
  }

  Result<PutResult> copy(const CopyRequest& req, OpContext& ctx) override {
    S3DB_RETURN_IF_ERROR(check_cancelled(ctx));
    S3DB_RETURN_IF_ERROR(check_key("copy", req.source_key));
    S3DB_RETURN_IF_ERROR(check_key("copy", req.dest_key));
    const std::string context = "copy " + req.source_key + " -> " + req.dest_key;
    if (req.source_key == req.dest_key && req.directive == MetadataDirective::kCopy) {
      // S3 refuses a copy onto itself that changes nothing.
      return Status::InvalidArgument(context, "copying an object onto itself needs the REPLACE directive");
    }
    Metadata replacement;
    if (req.directive == MetadataDirective::kReplace) {
      replacement = normalize_metadata(req.metadata);
      if (options_.enforce_metadata_limit) {
        S3DB_RETURN_IF_ERROR(check_metadata_limit("copy", req.dest_key, replacement));
      }
    }
    Entry old;
    std::unique_lock lock(mu_);
    auto src = objects_.find(req.source_key);
    if (src == objects_.end()) return Status::NotFound(context, "source key does not exist");
    Entry e = src->second;  // shares the body
    e.meta.last_modified_ms = now_unix_ms();
    if (req.directive == MetadataDirective::kReplace) {
      e.meta.metadata = std::move(replacement);
      if (!req.content_type.empty()) e.meta.content_type = req.content_type;
    }
    PutResult result{e.meta.etag};
    auto [it, inserted] = objects_.try_emplace(req.dest_key);
    if (!inserted) old = std::move(it->second);
    it->second = std::move(e);
    return result;
  }

  Result<ListPage> list(const ListRequest& req, OpContext& ctx) override {
    S3DB_RETURN_IF_ERROR(check_cancelled(ctx));
    std::shared_lock lock(mu_);
    NextKey next = [this](std::string_view bound, bool inclusive) -> std::optional<std::string_view> {
      auto it = inclusive ? objects_.lower_bound(bound) : objects_.upper_bound(bound);
      if (it == objects_.end()) return std::nullopt;
      return std::string_view(it->first);
    };
    auto keys = paginate(req, next);
    if (!keys.ok()) return keys.status();
    ListPage page;
    page.objects.reserve(keys->keys.size());
    for (const auto& k : keys->keys) {
      const ObjectMeta& m = objects_.find(k)->second.meta;
      ObjectMeta lm;  // list entries carry no user metadata (like S3's ListObjectsV2)
      lm.key = k;
      lm.size = m.size;
      lm.etag = m.etag;
      lm.content_type = m.content_type;
      lm.last_modified_ms = m.last_modified_ms;
      page.objects.push_back(std::move(lm));
    }
    page.common_prefixes = std::move(keys->common_prefixes);
    page.next_continuation_token = std::move(keys->next_continuation_token);
    page.truncated = keys->truncated;
    return page;
  }

 private:
  static Status not_found(std::string_view op, std::string_view key) {
    return Status::NotFound(std::string(op) + " " + std::string(key), "no such key");
  }

  static Status check_conditions(const PutRequest& req, const Entry* existing) {
    if (req.if_none_match && existing != nullptr) {
      return Status::AlreadyExists("put " + req.key, "object already exists (If-None-Match: *)");
    }
    if (!req.if_match.empty()) {
      const std::string_view want = unquote_etag(req.if_match);
      if (existing == nullptr) {
        return Status::PreconditionFailed("put " + req.key, "object does not exist (If-Match)");
      }
      if (existing->meta.etag != want) {
        return Status::PreconditionFailed("put " + req.key, "ETag is " + existing->meta.etag +
                                                                ", If-Match wanted " + std::string(want));
      }
    }
    return Status::OK();
  }

  const MemoryClientOptions options_;
  const std::string label_;
  mutable std::shared_mutex mu_;
  std::map<std::string, Entry, std::less<>> objects_;
};

}  // namespace

std::unique_ptr<StorageClient> make_memory_client(MemoryClientOptions options, std::string label) {
  return std::make_unique<MemoryClient>(options, std::move(label));
}

}  // namespace storage

std::unique_ptr<StorageClient> make_memory_client(MemoryClientOptions options) {
  return storage::make_memory_client(options, "memory://");
}

}  // namespace s3db
