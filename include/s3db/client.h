// s3db/client.h — a StorageClient plus its one OperationPool: what applications and Databases use.
//
// Contract
// - One pool per Client; every call below is one pool operation (retries, timeouts, priorities,
//   metrics all apply). Databases and Resources opened on the same Client share its pool.
// - Synchronous calls return the final Status after retries; *_async forms return a Future.
// - With ClientOptions::pool_enabled = false every op runs on the caller's thread (bypass):
//   no queue, no limit, no retries — the "no pool" baseline.
// - Thread-safe. Clients are shared (std::shared_ptr); the pool stops when the last owner goes.
// - Errors are those of StorageClient plus the pool's (Cancelled, Timeout, Throttled when full).
#pragma once

#include <s3db/connection.h>
#include <s3db/operation_pool.h>
#include <s3db/shared_limit.h>
#include <s3db/storage_client.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace s3db {

struct ClientOptions {
  bool pool_enabled = true;
  PoolOptions pool;  // the URI's pool settings (and remote defaults) override these: see s3db/connection.h
  // Wins over the URI's concurrency (a fixed limit, or ConnectionOptions::kAutoConcurrency): a
  // command line's --concurrency. Unset = the URI's, or the store's default.
  std::optional<int> concurrency;
  // Limits shared through Redis, or a local rate cap (s3db/shared_limit.h); Client::open joins
  // them, merged with the connection string's (these win field by field where set).
  SharedLimitConfig shared;
};

class Client {
 public:
  // Parses `uri` (s3db/connection.h), builds the StorageClient and its pool. The URI's timeout_ms
  // (60 s by default for s3/http(s) stores) becomes the pool's default per-attempt timeout unless
  // options.pool.default_timeout is set.
  // Shared limits and rate caps: the URI's (redis=, global_concurrency=, rate_put=, …), with each
  // field of options.shared that is set (not its default) on top; when any is set, it joins them
  // (join_shared_limit): a bad Redis URL, a wrong password or nobody listening is that error,
  // naming the URL without its password.
  static Result<std::shared_ptr<Client>> open(std::string_view uri, ClientOptions options = {});
  static std::shared_ptr<Client> wrap(std::shared_ptr<StorageClient> storage, ClientOptions options = {});
  // Caps this Client's pool at its share of `config`'s limit from now on (once per Client:
  // InvalidArgument the second time). Connects first; errors as for open().
  Status join_shared_limit(const SharedLimitConfig& config);
  // The shared limit's state now (permits, fallback, rate waits); all zero when none was joined.
  using SharedLimitState = s3db::SharedLimitState;
  SharedLimitState shared_limit() const;
  // The pool's metrics in the Prometheus text format (OperationPool::prometheus()), followed by
  // the shared limit's and rate caps' (s3db_shared_*, s3db_rate_cap_*; docs/coordination.md) and
  // the hedged reads' (s3db_hedge*; docs/s3-client.md).
  std::string prometheus() const;
  // Hedged reads of the storage (StorageClient::hedge_stats(); enabled = false when it does not
  // hedge). In prometheus() too (s3db_hedge_*) and in the CLI's --metrics JSON ("hedging").
  HedgeStats hedging() const { return raw_->hedge_stats(); }

  StorageClient& storage() noexcept { return *storage_; }
  // The storage as given to the Client, without its rate gates (to wrap it in another Client).
  std::shared_ptr<StorageClient> storage_ptr() const noexcept { return raw_; }
  OperationPool& pool() noexcept { return *pool_; }
  const OperationPool& pool() const noexcept { return *pool_; }
  bool pool_enabled() const noexcept { return options_.pool_enabled; }
  // Applies pool_enabled to `options` (sets bypass when the pool is disabled).
  OpOptions effective(OpOptions options) const;

  Result<PutResult> put(PutRequest request, OpOptions options = {});
  Result<Object> get(std::string key, OpOptions options = {});
  Result<ObjectMeta> head(std::string key, OpOptions options = {});
  Status remove(std::string key, OpOptions options = {});
  Result<DeleteManyResult> remove_many(std::vector<std::string> keys, OpOptions options = {});
  Result<PutResult> copy(CopyRequest request, OpOptions options = {});
  Result<ListPage> list(ListRequest request, OpOptions options = {});
  // Every object under `prefix`, in key order, one LIST page (one pool operation) at a time:
  // `visit` sees each one and returns false to stop early (list_each then returns OK). A page's
  // failure is returned with the context "list <prefix>"; a truncated page without a continuation
  // token, or repeating the one just sent, is Internal (a store that would page forever). Memory
  // stays one page.
  Status list_each(std::string prefix, const std::function<bool(ObjectMeta&)>& visit, OpOptions options = {});
  // Every object under `prefix`: list_each() collected.
  Result<std::vector<ObjectMeta>> list_all(std::string prefix, OpOptions options = {});

  Future<PutResult> put_async(PutRequest request, OpOptions options = {});
  Future<Object> get_async(std::string key, OpOptions options = {});
  Future<void> remove_async(std::string key, OpOptions options = {});

  Client(std::shared_ptr<StorageClient> storage, ClientOptions options);
  ~Client();

 private:
  struct Joined;
  std::shared_ptr<StorageClient> raw_;      // as given
  std::shared_ptr<StorageClient> storage_;  // raw_ behind the rate gates: what every op calls
  ClientOptions options_;
  std::unique_ptr<OperationPool> pool_;
  std::unique_ptr<Joined> joined_;  // the rate gates and coordinator of a joined limit; first to go
};

}  // namespace s3db
