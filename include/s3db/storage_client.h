// s3db/storage_client.h — the raw object-store interface (shaped like leveldb's Env).
//
// Contract
// - Implementations: MemoryClient, FileClient, S3Client (make_storage_client() picks one
//   from ConnectionOptions). All are thread-safe: any method may be called from many threads.
// - Every method runs inside one OperationPool attempt and receives its OpContext: it must stop
//   promptly when ctx.cancelled() (a network client aborts its transfer from ctx.on_cancel) and
//   report ctx.cancel_status(). Clients NEVER retry on their own: the pool owns retries.
// - Missing key: get/head/copy(source) → NotFound. remove() of a missing key → OK (S3 semantics).
//   Failed condition: put with if_none_match on an existing key → AlreadyExists; if_match with a
//   different ETag (or missing key) → PreconditionFailed. Identical across every client.
// - ETags are returned without quotes; if_match accepts an ETag as returned, quoted ("etag") or
//   weak (W/"etag"), as HTTP headers carry it. Metadata keys are lower-case without "x-amz-meta-".
// - Keys are UTF-8, 1..1024 bytes — for an S3 store, counting the connection's prefix, which is
//   part of the key S3 sees; anything else → InvalidArgument, nothing written.
// - User metadata over 2 KB as S3 counts it (metadata_size() in s3db/metadata.h: values that are
//   not header-safe count in their RFC 2047 form) → InvalidArgument on put/copy, nothing written,
//   on every client (AWS refuses it; the S3 client checks before sending, for servers that would
//   not).
// - list(): keys in UTF-8 byte order; max_keys clamped to 1..1000; a truncated page carries
//   next_continuation_token. remove_many() accepts any number of keys (batched by 1,000).
#pragma once

#include <s3db/metadata.h>
#include <s3db/op_context.h>
#include <s3db/status.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace s3db {

// metadata_size() and kMaxMetadataBytes (the 2 KB limit every client enforces): s3db/metadata.h.

struct ObjectMeta {
  std::string key;
  std::uint64_t size = 0;
  std::string etag;
  std::string content_type;
  std::int64_t last_modified_ms = 0;  // Unix epoch milliseconds
  Metadata metadata;                  // filled by head/get, not by list
};

struct Object {
  ObjectMeta meta;
  std::string body;
};

struct PutRequest {
  std::string key;
  std::string body;
  std::string content_type;  // empty = application/octet-stream
  Metadata metadata;
  bool if_none_match = false;  // create only: existing key → AlreadyExists
  std::string if_match;        // overwrite only this ETag: else → PreconditionFailed
};

struct PutResult {
  std::string etag;
};

enum class MetadataDirective { kCopy, kReplace };

struct CopyRequest {
  std::string source_key;
  std::string dest_key;
  MetadataDirective directive = MetadataDirective::kCopy;
  Metadata metadata;          // used with kReplace
  std::string content_type;   // used with kReplace (empty = keep)
};

struct ListRequest {
  std::string prefix;
  std::string delimiter;
  int max_keys = 1000;
  std::string continuation_token;
  std::string start_after;
};

struct ListPage {
  std::vector<ObjectMeta> objects;
  std::vector<std::string> common_prefixes;
  std::string next_continuation_token;  // empty when not truncated
  bool truncated = false;
};

struct DeleteManyResult {
  std::size_t deleted = 0;
  std::vector<std::pair<std::string, Status>> failed;  // key → why
};

// Hedged reads of an S3 store (docs/s3-client.md "Hedged reads"): a GET, HEAD or LIST still
// unanswered at the live p95 of its kind sends one duplicate; the first answer wins and the other
// transfer is aborted. A budget caps the duplicates. What StorageClient::hedge_stats() reports.
struct HedgeStats {
  struct Kind {
    std::uint64_t requests = 0;            // requests of this kind sent (duplicates not counted)
    std::uint64_t sent = 0;                // duplicates sent
    std::uint64_t won = 0;                 // duplicates that answered first
    std::chrono::nanoseconds delay{0};     // the live p95 a request waits before its duplicate;
                                           // 0 while the kind has too few answers to tell
  };
  bool enabled = false;  // false: a store that does not hedge (memory, file, hedge=off)
  double budget = 0;     // duplicates allowed per request (hedge_budget, 0.05 = 5 %)
  double tokens = 0;     // duplicates the budget allows right now
  Kind get, head, list;
  std::uint64_t sent() const noexcept { return get.sent + head.sent + list.sent; }
  std::uint64_t won() const noexcept { return get.won + head.won + list.won; }
  std::uint64_t requests() const noexcept { return get.requests + head.requests + list.requests; }
};

class StorageClient {
 public:
  virtual ~StorageClient() = default;

  virtual std::string_view kind() const noexcept = 0;  // "memory" | "file" | "s3"
  virtual std::string describe() const = 0;            // location, never secrets

  virtual Result<PutResult> put(const PutRequest& request, OpContext& ctx) = 0;
  // put() that may take the body and metadata out of `request` — only when it returns OK; after
  // any failure `request` is intact, so the caller can retry it. Saves a copy of every byte on
  // clients that keep objects in memory; the default simply calls put().
  virtual Result<PutResult> put_moved(PutRequest&& request, OpContext& ctx) { return put(request, ctx); }
  virtual Result<Object> get(std::string_view key, OpContext& ctx) = 0;
  virtual Result<ObjectMeta> head(std::string_view key, OpContext& ctx) = 0;
  virtual Status remove(std::string_view key, OpContext& ctx) = 0;
  virtual Result<DeleteManyResult> remove_many(const std::vector<std::string>& keys,
                                               OpContext& ctx) = 0;
  virtual Result<PutResult> copy(const CopyRequest& request, OpContext& ctx) = 0;
  virtual Result<ListPage> list(const ListRequest& request, OpContext& ctx) = 0;

  // Hedged reads so far; all zero (enabled = false) for a store that does not hedge.
  virtual HedgeStats hedge_stats() const { return {}; }
};

// Forwards every call to a target; override some methods to inject faults or latency in tests.
class ForwardingClient : public StorageClient {
 public:
  explicit ForwardingClient(std::shared_ptr<StorageClient> target) : target_(std::move(target)) {}
  std::string_view kind() const noexcept override { return target_->kind(); }
  std::string describe() const override { return target_->describe(); }
  Result<PutResult> put(const PutRequest& r, OpContext& c) override { return target_->put(r, c); }
  Result<Object> get(std::string_view k, OpContext& c) override { return target_->get(k, c); }
  Result<ObjectMeta> head(std::string_view k, OpContext& c) override { return target_->head(k, c); }
  Status remove(std::string_view k, OpContext& c) override { return target_->remove(k, c); }
  Result<DeleteManyResult> remove_many(const std::vector<std::string>& k, OpContext& c) override {
    return target_->remove_many(k, c);
  }
  Result<PutResult> copy(const CopyRequest& r, OpContext& c) override { return target_->copy(r, c); }
  Result<ListPage> list(const ListRequest& r, OpContext& c) override { return target_->list(r, c); }
  HedgeStats hedge_stats() const override { return target_->hedge_stats(); }

 protected:
  StorageClient& target() { return *target_; }

 private:
  std::shared_ptr<StorageClient> target_;
};

struct MemoryClientOptions {
  // Reject user metadata over 2 KB (metadata_size(), as S3 counts it) with InvalidArgument, like
  // every other client. Off only for tests that need to store what S3 would refuse.
  bool enforce_metadata_limit = true;
};
// Everything in memory, freed with the client. get/head/put/remove/copy are hash lookups; list()
// is O(log n + page) plus its share of a lazy sort of the keys created since the last list()
// (docs/performance.md "MemoryClient index").
std::unique_ptr<StorageClient> make_memory_client(MemoryClientOptions options = {});

// Persistent store under `root` (created if missing). Atomic writes (temp file + rename).
Result<std::unique_ptr<StorageClient>> make_file_client(const std::string& root);

struct ConnectionOptions;  // s3db/connection.h
// memory:// → MemoryClient, file:// → FileClient, s3:// and http(s):// → S3Client.
Result<std::unique_ptr<StorageClient>> make_storage_client(const ConnectionOptions& options);

}  // namespace s3db
