// MemoryClient: the whole store in memory, for tests, benchmarks and memory:// databases.
//
// Keys are spread over kShards shards by a hash of the key, each under its own mutex, so that
// writers on different threads rarely meet (one map under one lock was the hottest spot of the
// 10,000-insert benchmark: 50 threads queueing on a reader-writer lock).
//
// A shard has a hash index for the point operations (get/head/put/remove/copy: one hash, one or
// two key compares, no allocation for a lookup) and an order that only list() needs, brought up
// to date lazily, by list() itself:
//  - `sorted`, the index's nodes in key order as of the last merge;
//  - `recent`, the nodes created since, appended unsorted (a put of a new key pays no ordering);
//    the next list() sorts what was appended since the list() before and merges it into the
//    sorted part of `recent`, and merges `recent` into `sorted` only once it has grown past an
//    eighth of it — so a scan that lists pages while writers insert pays for sorting the new
//    keys, not a re-sort of everything per page;
//  - a removed key stays in the index as a tombstone (no object) until the next merge, so that
//    neither list points at a freed node; a re-created tombstone is revived in place.
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
  StoredPtr stored;  // null: a tombstone (removed; still named by the shard's `sorted` or `recent`)
};
using Index = std::unordered_map<std::string, Entry, KeyHash, std::equal_to<>>;
using Node = Index::value_type;  // its address is stable until it is erased (rehash keeps nodes)
using NodeList = std::vector<Node*>;

// Orders index nodes by key, and compares them with a bare key (lower_bound on a bound).
struct ByKey {
  using is_transparent = void;
  bool operator()(const Node* a, const Node* b) const noexcept { return a->first < b->first; }
  bool operator()(const Node* a, std::string_view b) const noexcept { return a->first < b; }
  bool operator()(std::string_view a, const Node* b) const noexcept { return a < b->first; }
};

// Every node of `index` is named exactly once, by `sorted` or by `recent`; a removed key stays a
// tombstone until the next merge, so that neither list ever points at a freed node.
struct alignas(64) Shard {  // one cache line apart: the shards' mutexes never share one
  std::mutex mu;
  Index index;
  NodeList sorted;                   // key order
  NodeList recent;                   // created since the last merge: [0, recent_sorted) in key
  std::size_t recent_sorted = 0;     // order, the rest in creation order
  std::size_t dead = 0;              // tombstones in `sorted` and `recent`

  // Lookup of a live object; null when missing or removed.
  const StoredPtr* find(std::string_view key) const {
    auto it = index.find(key);
    return it == index.end() || !it->second.stored ? nullptr : &it->second.stored;
  }

  // Stores `s` under `key` (`it` = index.find(key)); returns the object it replaces.
  StoredPtr store(Index::iterator it, std::string&& key, StoredPtr s) {
    if (it == index.end()) {
      recent.push_back(&*index.emplace(std::move(key), Entry{std::move(s)}).first);
      return nullptr;
    }
    if (!it->second.stored) --dead;  // a tombstone revived: it keeps its place
    return std::exchange(it->second.stored, std::move(s));
  }

  // Removes `key`; returns the removed object (null when there was none).
  StoredPtr erase(std::string_view key) {
    auto it = index.find(key);
    if (it == index.end() || !it->second.stored) return nullptr;
    StoredPtr old = std::move(it->second.stored);
    ++dead;
    // Bounds the tombstones' memory for a store that is written but never listed; amortised
    // O(1) per remove, since it takes half the keys' removes to get here again.
    if (dead > kMinMerge && dead > (sorted.size() + recent.size()) / 2) merge();
    return old;
  }

  // Before a list(): puts `recent` in key order (sorting only what was created since the last
  // list), then merges it into `sorted` and drops the tombstones once either has grown past an
  // eighth of `sorted` — O(|sorted|) every |sorted|/8 changes, so amortised O(1) per change. A
  // LIST between writes (a scan while writers insert) thus costs the new keys' sort, not a re-sort.
  void order_for_list() {
    sort_recent();
    const std::size_t slack = std::max(kMinMerge, sorted.size() / 8);
    if (recent.size() > slack || dead > slack) merge();
  }

  void merge() {
    sort_recent();
    NodeList out;
    out.reserve(sorted.size() + recent.size() - dead);
    auto keep = [&](Node* n) {
      if (n->second.stored) out.push_back(n);
      else index.erase(n->first);  // the tombstone's last reference goes with it
    };
    auto r = recent.begin();
    for (Node* n : sorted) {
      for (; r != recent.end() && (*r)->first < n->first; ++r) keep(*r);
      keep(n);
    }
    for (; r != recent.end(); ++r) keep(*r);
    sorted = std::move(out);
    recent.clear();
    recent_sorted = 0;
    dead = 0;
  }

  static constexpr std::size_t kMinMerge = 256;

 private:
  void sort_recent() {
    if (recent_sorted == recent.size()) return;
    const auto mid = recent.begin() + static_cast<std::ptrdiff_t>(recent_sorted);
    std::sort(mid, recent.end(), ByKey{});
    std::inplace_merge(recent.begin(), mid, recent.end(), ByKey{});
    recent_sorted = recent.size();
  }
};

// One shard's live keys in order from a bound on: `sorted` merged with `recent`, tombstones
// skipped. Valid while the shard's lock is held, after order_for_list(), with no change between.
class ShardCursor {
 public:
  explicit ShardCursor(const Shard& shard) : sorted_(shard.sorted), recent_(shard.recent) {}

  void seek(std::string_view bound, bool inclusive) {
    sorted_.seek(bound, inclusive);
    recent_.seek(bound, inclusive);
  }
  // The current key; null at the end.
  const std::string* key() const noexcept {
    const std::string* s = sorted_.key();
    const std::string* r = recent_.key();
    if (s == nullptr) return r;
    return r == nullptr || *s < *r ? s : r;
  }
  void advance() {
    if (sorted_.key() == key()) sorted_.advance();
    else recent_.advance();
  }

 private:
  struct Run {  // one sorted NodeList
    explicit Run(const NodeList& l) : list(&l), at(l.end()) {}
    void seek(std::string_view bound, bool inclusive) {
      at = inclusive ? std::lower_bound(list->begin(), list->end(), bound, ByKey{})
                     : std::upper_bound(list->begin(), list->end(), bound, ByKey{});
      skip_dead();
    }
    const std::string* key() const noexcept { return at == list->end() ? nullptr : &(*at)->first; }
    void advance() {
      ++at;
      skip_dead();
    }
    void skip_dead() {
      while (at != list->end() && !(*at)->second.stored) ++at;
    }
    const NodeList* list;
    NodeList::const_iterator at;
  };
  Run sorted_, recent_;
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
      shards_[i].order_for_list();
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
