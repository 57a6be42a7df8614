// MemoryClient: the whole store in memory, for tests, benchmarks and memory:// databases.
//
// Keys are spread over kShards ordered maps by a hash of the key, each under its own mutex, so
// that writers on different threads rarely meet (one map under one lock was the hottest spot of
// the 10,000-insert benchmark: 50 threads queueing on a reader-writer lock). Point operations
// lock one shard; list() locks every shard in index order and merges them, since S3 pages in
// UTF-8 byte order across the whole key space.
//
// An object is one immutable block (metadata, body, ETag, type, time) behind a shared_ptr: a put
// builds it before taking the lock, the lock only swaps a pointer, a reader copies the pointer
// out and the bytes after unlocking, and a replaced object is freed outside the lock.
#include "storage/memory_client.h"

#include "storage/listing.h"
#include "storage/object_util.h"
#include "storage/s3/digest.h"

#include <algorithm>
#include <array>
#include <map>
#include <mutex>

namespace s3db {
namespace storage {
namespace {

struct Stored {
  Metadata metadata;
  std::string body;
  std::string content_type;  // empty = kDefaultContentType
  std::string etag;
  std::int64_t last_modified_ms = 0;
};
using StoredPtr = std::shared_ptr<const Stored>;

ObjectMeta meta_of(std::string_view key, const Stored& s, bool with_metadata) {
  ObjectMeta m;
  m.key = std::string(key);
  m.size = s.body.size();
  m.etag = s.etag;
  m.content_type = s.content_type.empty() ? std::string(kDefaultContentType) : s.content_type;
  m.last_modified_ms = s.last_modified_ms;
  if (with_metadata) m.metadata = s.metadata;
  return m;
}

class MemoryClient final : public StorageClient {
 public:
  MemoryClient(MemoryClientOptions options, std::string label)
      : options_(options), label_(std::move(label)) {}

  std::string_view kind() const noexcept override { return "memory"; }
  std::string describe() const override { return label_; }

  Result<PutResult> put(const PutRequest& req, OpContext& ctx) override {
    PutRequest copy = req;
    return put_moved(std::move(copy), ctx);
  }

  Result<PutResult> put_moved(PutRequest&& req, OpContext& ctx) override {
    S3DB_RETURN_IF_ERROR(check_cancelled(ctx));
    S3DB_RETURN_IF_ERROR(check_key("put", req.key));
    auto s = std::make_shared<Stored>();
    // Keys are usually lower-case already: then the request's map moves in below, uncopied.
    const bool lowered = has_upper_case_key(req.metadata);
    if (lowered) s->metadata = normalize_metadata(req.metadata);
    if (options_.enforce_metadata_limit) {
      S3DB_RETURN_IF_ERROR(check_metadata_limit("put", req.key, lowered ? s->metadata : req.metadata));
    }
    s->etag = s3::md5_hex(req.body);
    s->last_modified_ms = now_unix_ms();
    PutResult result{s->etag};

    Shard& shard = shard_of(req.key);
    StoredPtr replaced;  // freed after the lock is released
    {
      std::lock_guard lock(shard.mu);
      auto it = shard.objects.find(req.key);
      S3DB_RETURN_IF_ERROR(check_put_conditions(req, it == shard.objects.end() ? nullptr : &it->second->etag));
      // From here on the put succeeds: the request's bytes may move into the stored object.
      s->body = std::move(req.body);
      s->content_type = std::move(req.content_type);
      if (!lowered) s->metadata = std::move(req.metadata);
      if (it == shard.objects.end()) {
        shard.objects.emplace(std::move(req.key), std::move(s));
      } else {
        replaced = std::exchange(it->second, std::move(s));
      }
    }
    return result;
  }

  Result<Object> get(std::string_view key, OpContext& ctx) override {
    S3DB_RETURN_IF_ERROR(check_cancelled(ctx));
    S3DB_RETURN_IF_ERROR(check_key("get", key));
    StoredPtr s = find(key);
    if (!s) return not_found("get", key);
    Object out;
    out.meta = meta_of(key, *s, /*with_metadata=*/true);
    out.body = s->body;
    return out;
  }

  Result<ObjectMeta> head(std::string_view key, OpContext& ctx) override {
    S3DB_RETURN_IF_ERROR(check_cancelled(ctx));
    S3DB_RETURN_IF_ERROR(check_key("head", key));
    StoredPtr s = find(key);
    if (!s) return not_found("head", key);
    return meta_of(key, *s, /*with_metadata=*/true);
  }

  Status remove(std::string_view key, OpContext& ctx) override {
    S3DB_RETURN_IF_ERROR(check_cancelled(ctx));
    S3DB_RETURN_IF_ERROR(check_key("delete", key));
    erase(key);
    return Status::OK();  // a missing key is not an error (S3 semantics)
  }

  Result<DeleteManyResult> remove_many(const std::vector<std::string>& keys, OpContext& ctx) override {
    DeleteManyResult result;
    // Batches of 1,000 like S3, so that a cancellation stops between batches as it would there.
    for (std::size_t start = 0; start < keys.size(); start += 1000) {
      S3DB_RETURN_IF_ERROR(check_cancelled(ctx));
      const std::size_t end = std::min(keys.size(), start + 1000);
      for (std::size_t i = start; i < end; ++i) {
        Status s = check_key("delete", keys[i]);
        if (!s.ok()) {
          result.failed.emplace_back(keys[i], std::move(s));
          continue;
        }
        erase(keys[i]);
        ++result.deleted;
      }
    }
    return result;
  }

  Result<PutResult> copy(const CopyRequest& req, OpContext& ctx) override {
    S3DB_RETURN_IF_ERROR(check_cancelled(ctx));
    std::string context;
    S3DB_RETURN_IF_ERROR(check_copy(req, context));
    StoredPtr src = find(req.source_key);
    if (!src) return Status::NotFound(context, "source key does not exist");
    auto s = std::make_shared<Stored>(*src);
    s->last_modified_ms = now_unix_ms();
    apply_copy_directive(req, s->metadata, s->content_type);
    if (options_.enforce_metadata_limit) {
      S3DB_RETURN_IF_ERROR(check_metadata_limit("copy", req.dest_key, s->metadata));
    }
    PutResult result{s->etag};
    Shard& shard = shard_of(req.dest_key);
    StoredPtr replaced;
    {
      std::lock_guard lock(shard.mu);
      auto [it, inserted] = shard.objects.try_emplace(req.dest_key);
      replaced = std::exchange(it->second, std::move(s));
    }
    return result;
  }

  Result<ListPage> list(const ListRequest& req, OpContext& ctx) override {
    S3DB_RETURN_IF_ERROR(check_cancelled(ctx));
    // Every shard locked (in index order, the only order anyone takes several): one snapshot.
    std::array<std::unique_lock<std::mutex>, kShards> locks;
    for (std::size_t i = 0; i < kShards; ++i) locks[i] = std::unique_lock(shards_[i].mu);
    // The smallest key ≥ (or >) bound over all shards; it points into a map node, stable while
    // the locks are held.
    const std::string* last = nullptr;
    NextKey next = [this, &last](std::string_view bound, bool inclusive) -> std::optional<std::string_view> {
      last = nullptr;
      for (Shard& shard : shards_) {
        auto it = inclusive ? shard.objects.lower_bound(bound) : shard.objects.upper_bound(bound);
        if (it != shard.objects.end() && (last == nullptr || it->first < *last)) last = &it->first;
      }
      if (last == nullptr) return std::nullopt;
      return std::string_view(*last);
    };
    auto keys = paginate(req, next);
    if (!keys.ok()) return keys.status();
    ListPage page;
    page.objects.reserve(keys->keys.size());
    for (auto& k : keys->keys) {
      const Shard& shard = shard_of(k);
      const Stored& s = *shard.objects.find(k)->second;
      // List entries carry no user metadata (like S3's ListObjectsV2).
      page.objects.push_back(meta_of(k, s, /*with_metadata=*/false));
    }
    page.common_prefixes = std::move(keys->common_prefixes);
    page.next_continuation_token = std::move(keys->next_continuation_token);
    page.truncated = keys->truncated;
    return page;
  }

 private:
  static constexpr std::size_t kShards = 16;

  struct alignas(64) Shard {  // one cache line apart: the shards' mutexes never share one
    std::mutex mu;
    std::map<std::string, StoredPtr, std::less<>> objects;
  };

  static std::size_t shard_index(std::string_view key) noexcept {
    // The key's last 16 bytes: keys of one resource share long prefixes and differ at the end
    // (ids), so the tail spreads them and bounds the cost for long keys.
    const std::uint64_t h = fnv1a(key.substr(key.size() > 16 ? key.size() - 16 : 0));
    return (h ^ (h >> 32)) % kShards;
  }
  Shard& shard_of(std::string_view key) noexcept { return shards_[shard_index(key)]; }
  const Shard& shard_of(std::string_view key) const noexcept { return shards_[shard_index(key)]; }

  StoredPtr find(std::string_view key) {
    Shard& shard = shard_of(key);
    std::lock_guard lock(shard.mu);
    auto it = shard.objects.find(key);
    return it == shard.objects.end() ? nullptr : it->second;
  }

  void erase(std::string_view key) {
    Shard& shard = shard_of(key);
    StoredPtr old;  // freed after the lock is released
    std::lock_guard lock(shard.mu);
    auto it = shard.objects.find(key);
    if (it == shard.objects.end()) return;
    old = std::move(it->second);
    shard.objects.erase(it);
  }

  static Status not_found(std::string_view op, std::string_view key) {
    return Status::NotFound(std::string(op) + " " + std::string(key), "no such key");
  }

  const MemoryClientOptions options_;
  const std::string label_;
  std::array<Shard, kShards> shards_;
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
