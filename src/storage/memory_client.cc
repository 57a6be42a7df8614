// MemoryClient: the whole store in memory, for tests, benchmarks and memory:// databases.
//
// Keys are spread over kShards shards by a hash of the key, each under its own mutex, so that
// writers on different threads rarely meet (one map under one lock was the hottest spot of the
// 10,000-insert benchmark: 50 threads queueing on a reader-writer lock).
//
// A shard has a hash index for the point operations (get/head/put/remove/copy: one hash, one or
// two key compares, no allocation for a lookup) and an order that is only kept for list():
//  - `sorted`, a vector of the index's nodes in key order, brought up to date lazily — by the
//    first list() after enough changes, or by a remove() once half of it is dead;
//  - `recent`, an ordered set of the nodes created since (small), so that a LIST between writes
//    sees them without a re-sort: a scan that lists pages while writers insert costs O(log n)
//    per insert, not a sort per page;
//  - a removed key that is in `sorted` stays in the index as a tombstone (no object) until the
//    next merge, so that `sorted` never points at freed nodes; `recent` and `sorted` never share
//    a key (a re-created tombstone is revived in place).
// list() locks every shard in index order and merges their orders (a heap of shard cursors),
// since S3 pages in UTF-8 byte order across the whole key space. docs/performance.md
// "MemoryClient index" has the measurements behind this.
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
#include <functional>
#include <mutex>
#include <set>
#include <unordered_map>

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

// Transparent: a string_view finds a std::string key without building one.
struct KeyHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view key) const noexcept { return std::hash<std::string_view>{}(key); }
};

struct Entry {
  StoredPtr stored;        // null: a tombstone (removed, still named by the shard's `sorted`)
  bool in_sorted = false;  // in the shard's `sorted` (else, while live, in its `recent`)
};
using Index = std::unordered_map<std::string, Entry, KeyHash, std::equal_to<>>;
using Node = Index::value_type;  // its address is stable until it is erased (rehash keeps nodes)

// Orders index nodes by key, and compares them with a bare key (lower_bound on a bound).
struct ByKey {
  using is_transparent = void;
  bool operator()(const Node* a, const Node* b) const noexcept { return a->first < b->first; }
  bool operator()(const Node* a, std::string_view b) const noexcept { return a->first < b; }
  bool operator()(std::string_view a, const Node* b) const noexcept { return a < b->first; }
};

struct alignas(64) Shard {  // one cache line apart: the shards' mutexes never share one
  std::mutex mu;
  Index index;
  std::vector<Node*> sorted;     // key order; may hold tombstones
  std::set<Node*, ByKey> recent;  // live keys created since the last merge
  std::size_t dead = 0;          // tombstones in `sorted`

  // Lookup of a live object; null when missing or removed.
  const StoredPtr* find(std::string_view key) const {
    auto it = index.find(key);
    return it == index.end() || !it->second.stored ? nullptr : &it->second.stored;
  }

  // Stores `s` under `key` (`it` = index.find(key)); returns the object it replaces.
  StoredPtr store(Index::iterator it, std::string&& key, StoredPtr s) {
    if (it == index.end()) {
      it = index.emplace(std::move(key), Entry{std::move(s), false}).first;
      recent.insert(&*it);
      return nullptr;
    }
    if (!it->second.stored) --dead;  // a tombstone revived: it keeps its place in `sorted`
    return std::exchange(it->second.stored, std::move(s));
  }

  // Removes `key`; returns the removed object (null when there was none).
  StoredPtr erase(std::string_view key) {
    auto it = index.find(key);
    if (it == index.end() || !it->second.stored) return nullptr;
    StoredPtr old = std::move(it->second.stored);
    if (it->second.in_sorted) {
      ++dead;
      // Bounds the tombstones' memory for a store that is written but never listed; amortised
      // O(1) per remove, since it takes |sorted|/2 removes to get here again.
      if (dead > kMinMerge && dead > sorted.size() / 2) merge();
    } else {
      recent.erase(&*it);
      index.erase(it);
    }
    return old;
  }

  // Before a list(): merges `recent` into `sorted` and drops the tombstones once either has grown
  // past a fraction of `sorted` — O(|sorted|) every |sorted|/8 changes, so amortised O(1) per
  // change, and a LIST between writes sees a small `recent` through its cursor instead.
  void merge_if_worth_it() {
    const std::size_t slack = std::max(kMinMerge, sorted.size() / 8);
    if (recent.size() > slack || dead > slack) merge();
  }

  void merge() {
    std::vector<Node*> out;
    out.reserve(sorted.size() - dead + recent.size());
    auto r = recent.begin();
    for (Node* n : sorted) {
      if (!n->second.stored) {
        index.erase(n->first);  // the tombstone's last reference goes with it
        continue;
      }
      for (; r != recent.end() && (*r)->first < n->first; ++r) out.push_back(*r);
      out.push_back(n);
    }
    out.insert(out.end(), r, recent.end());
    for (Node* n : recent) n->second.in_sorted = true;
    recent.clear();
    sorted = std::move(out);
    dead = 0;
  }

  static constexpr std::size_t kMinMerge = 256;
};

// One shard's keys in order from a bound on: `sorted` (skipping tombstones) merged with `recent`.
// Valid while the shard's lock is held and the shard is unchanged.
class ShardCursor {
 public:
  explicit ShardCursor(const Shard& shard) : shard_(&shard) {}

  void seek(std::string_view bound, bool inclusive) {
    const auto& v = shard_->sorted;
    s_ = inclusive ? std::lower_bound(v.begin(), v.end(), bound, ByKey{})
                   : std::upper_bound(v.begin(), v.end(), bound, ByKey{});
    r_ = inclusive ? shard_->recent.lower_bound(bound) : shard_->recent.upper_bound(bound);
    skip_dead();
  }
  // The current key; null at the end.
  const std::string* key() const noexcept {
    const bool s_end = s_ == shard_->sorted.end(), r_end = r_ == shard_->recent.end();
    if (s_end) return r_end ? nullptr : &(*r_)->first;
    if (r_end || (*s_)->first < (*r_)->first) return &(*s_)->first;
    return &(*r_)->first;
  }
  void advance() {
    const std::string* k = key();
    if (s_ != shard_->sorted.end() && &(*s_)->first == k) {
      ++s_;
      skip_dead();
    } else {
      ++r_;
    }
  }

 private:
  void skip_dead() {
    while (s_ != shard_->sorted.end() && !(*s_)->second.stored) ++s_;
  }
  const Shard* shard_;
  std::vector<Node*>::const_iterator s_;
  std::set<Node*, ByKey>::const_iterator r_;
};

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
      auto it = shard.index.find(req.key);
      const bool exists = it != shard.index.end() && it->second.stored;
      S3DB_RETURN_IF_ERROR(check_put_conditions(req, exists ? &it->second.stored->etag : nullptr));
      // From here on the put succeeds: the request's bytes may move into the stored object.
      s->body = std::move(req.body);
      s->content_type = std::move(req.content_type);
      if (!lowered) s->metadata = std::move(req.metadata);
      replaced = shard.store(it, std::move(req.key), std::move(s));
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
      replaced = shard.store(shard.index.find(req.dest_key), std::string(req.dest_key), std::move(s));
    }
    return result;
  }

  Result<ListPage> list(const ListRequest& req, OpContext& ctx) override {
    S3DB_RETURN_IF_ERROR(check_cancelled(ctx));
    // Every shard locked (in index order, the only order anyone takes several): one snapshot.
    std::array<std::unique_lock<std::mutex>, kShards> locks;
    for (std::size_t i = 0; i < kShards; ++i) {
      locks[i] = std::unique_lock(shards_[i].mu);
      shards_[i].merge_if_worth_it();
    }
    ShardMerge merge(shards_);
    NextKey next = [&merge](std::string_view bound, bool inclusive) { return merge.next(bound, inclusive); };
    auto keys = paginate(req, next);
    if (!keys.ok()) return keys.status();
    ListPage page;
    page.objects.reserve(keys->keys.size());
    for (auto& k : keys->keys) {
      // List entries carry no user metadata (like S3's ListObjectsV2).
      page.objects.push_back(meta_of(k, **shard_of(k).find(k), /*with_metadata=*/false));
    }
    page.common_prefixes = std::move(keys->common_prefixes);
    page.next_continuation_token = std::move(keys->next_continuation_token);
    page.truncated = keys->truncated;
    return page;
  }

 private:
  static constexpr std::size_t kShards = 16;

  // All shards' keys in one order: a min-heap of shard cursors. paginate() asks for the key after
  // the one just returned most of the time, which only advances the top cursor (O(log kShards));
  // any other bound (a start, a skipped common prefix) seeks every cursor again.
  class ShardMerge {
   public:
    explicit ShardMerge(const std::array<Shard, kShards>& shards) {
      cursors_.reserve(kShards);
      for (const Shard& s : shards) cursors_.emplace_back(s);
    }

    std::optional<std::string_view> next(std::string_view bound, bool inclusive) {
      if (last_ != nullptr && !inclusive && bound == *last_) {
        std::pop_heap(heap_.begin(), heap_.end(), later_);
        cursors_[heap_.back()].advance();
        if (cursors_[heap_.back()].key() == nullptr) heap_.pop_back();
        else std::push_heap(heap_.begin(), heap_.end(), later_);
      } else {
        heap_.clear();
        for (std::size_t i = 0; i < cursors_.size(); ++i) {
          cursors_[i].seek(bound, inclusive);
          if (cursors_[i].key() != nullptr) heap_.push_back(i);
        }
        std::make_heap(heap_.begin(), heap_.end(), later_);
      }
      last_ = heap_.empty() ? nullptr : cursors_[heap_.front()].key();
      if (last_ == nullptr) return std::nullopt;
      return std::string_view(*last_);
    }

   private:
    std::vector<ShardCursor> cursors_;
    std::vector<std::size_t> heap_;  // indexes of the cursors not at their end
    const std::string* last_ = nullptr;
    struct Later {  // the heap's order: cursor a's key after b's (std heaps keep the largest on top)
      const std::vector<ShardCursor>* cursors;
      bool operator()(std::size_t a, std::size_t b) const { return *(*cursors)[b].key() < *(*cursors)[a].key(); }
    };
    Later later_{&cursors_};
  };

  static std::size_t shard_index(std::string_view key) noexcept {
    // The key's last 16 bytes: keys of one resource share long prefixes and differ at the end
    // (ids), so the tail spreads them and bounds the cost for long keys.
    const std::uint64_t h = fnv1a(key.substr(key.size() > 16 ? key.size() - 16 : 0));
    return (h ^ (h >> 32)) % kShards;
  }
  Shard& shard_of(std::string_view key) noexcept { return shards_[shard_index(key)]; }

  StoredPtr find(std::string_view key) {
    Shard& shard = shard_of(key);
    std::lock_guard lock(shard.mu);
    const StoredPtr* s = shard.find(key);
    return s == nullptr ? nullptr : *s;
  }

  void erase(std::string_view key) {
    Shard& shard = shard_of(key);
    StoredPtr old;  // freed after the lock is released
    std::lock_guard lock(shard.mu);
    old = shard.erase(key);
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
