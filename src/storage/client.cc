// Client: a StorageClient and its one OperationPool. Each method is exactly one pool operation
// whose op calls the storage with the attempt's OpContext; the pool owns retries and timeouts.
#include "s3db/client.h"

#include "coord/rate_gate.h"
#include "pool/exposition.h"
#include "coord/shared_limit.h"
#include "storage/rate_capped_storage.h"

namespace s3db {

// What join_shared_limit() set up: the rate gates (owned by the storage too) and the coordinator.
struct Client::Joined {
  coord::RateGates gates;
  std::unique_ptr<coord::SharedLimit> limit;  // null: local rate caps only
};

Client::Client(std::shared_ptr<StorageClient> storage, ClientOptions options)
    : raw_(std::move(storage)), storage_(std::make_shared<RateCappedStorage>(raw_)), options_(std::move(options)),
      pool_(std::make_unique<OperationPool>(options_.pool)) {}

Client::~Client() {
  // The shared limit's coordinator first (it returns its permits and uncaps the pool), then the
  // pool (joining its threads) while storage_ is still alive: running ops use it.
  joined_.reset();
  pool_.reset();
}

Status Client::join_shared_limit(const SharedLimitConfig& config) {
  if (joined_) return Status::InvalidArgument("shared limit", "this client joined one already");
  if (Status st = check(config); !st.ok()) return st;
  if (config.global_concurrency == 0 && config.rate_put == 0 && config.rate_get == 0) {
    return Status::InvalidArgument("shared limit", "nothing to share: set global_concurrency, rate_put or rate_get");
  }
  SharedLimitConfig c = config;
  if (c.key.empty()) c.key = "s3db:" + raw_->describe();  // never a secret: describe() shows none
  auto joined = std::make_unique<Joined>();
  if (config.rate_put > 0) joined->gates.put = std::make_shared<coord::RateGate>(config.rate_put);
  if (config.rate_get > 0) joined->gates.get = std::make_shared<coord::RateGate>(config.rate_get);
  if (!config.redis_url.empty()) {
    auto limit = coord::SharedLimit::start(*pool_, std::move(c), joined->gates);
    if (!limit.ok()) return limit.status();
    joined->limit = std::move(limit).value();
  }
  static_cast<RateCappedStorage&>(*storage_).set_gates(joined->gates.put, joined->gates.get);
  joined_ = std::move(joined);
  return Status::OK();
}

SharedLimitState Client::shared_limit() const {
  if (!joined_) return {};
  SharedLimitState out = joined_->limit ? joined_->limit->stats() : SharedLimitState{};
  out.joined = true;
  for (const auto* gate : {joined_->gates.put.get(), joined_->gates.get.get()}) {
    if (!gate) continue;
    const coord::RateGateStats g = gate->stats();
    out.rate_requests += g.requests;
    out.rate_waits += g.waits;
    out.rate_wait_s += g.wait_s;
  }
  return out;
}

namespace {

// The connection string's shared settings, with each field the caller set (not its default) on top.
SharedLimitConfig merged(SharedLimitConfig url, const SharedLimitConfig& caller) {
  const SharedLimitConfig d;
  if (!caller.redis_url.empty()) url.redis_url = caller.redis_url;
  if (caller.key != d.key) url.key = caller.key;
  if (caller.global_concurrency != d.global_concurrency) url.global_concurrency = caller.global_concurrency;
  if (caller.rate_put != d.rate_put) url.rate_put = caller.rate_put;
  if (caller.rate_get != d.rate_get) url.rate_get = caller.rate_get;
  if (caller.lease_ttl != d.lease_ttl) url.lease_ttl = caller.lease_ttl;
  if (caller.fallback != d.fallback) url.fallback = caller.fallback;
  if (caller.fallback_rate_share != d.fallback_rate_share) url.fallback_rate_share = caller.fallback_rate_share;
  if (caller.on_event) url.on_event = caller.on_event;
  return url;
}

}  // namespace

std::string Client::prometheus() const {
  return pool_->prometheus() + pool::to_text(pool::shared_families(shared_limit(), pool_->options().name)) +
         pool::to_text(pool::hedge_families(hedging(), pool_->options().name));
}

Result<std::shared_ptr<Client>> Client::open(std::string_view uri, ClientOptions options) {
  auto conn = ConnectionOptions::FromUri(uri);
  if (!conn.ok()) return conn.status();
  auto storage = make_storage_client(*conn);
  if (!storage.ok()) return storage.status();
  // Pool settings carried by the URI (remote defaults included) win over the caller's PoolOptions;
  // ClientOptions::concurrency over the URI's.
  if (options.concurrency) conn->concurrency = *options.concurrency;
  conn->apply_to(options.pool);
  if (conn->timeout.count() > 0 && options.pool.default_timeout.count() == 0) {
    options.pool.default_timeout = conn->timeout;
  }
  const SharedLimitConfig shared = merged(conn->shared, options.shared);
  auto client = wrap(std::shared_ptr<StorageClient>(std::move(*storage)), std::move(options));
  if (!shared.redis_url.empty() || shared.global_concurrency > 0 || shared.rate_put > 0 || shared.rate_get > 0) {
    if (Status st = client->join_shared_limit(shared); !st.ok()) return st;
  }
  return client;
}

std::shared_ptr<Client> Client::wrap(std::shared_ptr<StorageClient> storage, ClientOptions options) {
  return std::make_shared<Client>(std::move(storage), std::move(options));
}

OpOptions Client::effective(OpOptions options) const {
  if (!options_.pool_enabled) options.bypass = true;
  return options;
}

Result<PutResult> Client::put(PutRequest request, OpOptions options) {
  return pool_->run([&](OpContext& ctx) { return storage_->put(request, ctx); }, effective(std::move(options)));
}

Result<Object> Client::get(std::string key, OpOptions options) {
  return pool_->run([&](OpContext& ctx) { return storage_->get(key, ctx); }, effective(std::move(options)));
}

Result<ObjectMeta> Client::head(std::string key, OpOptions options) {
  return pool_->run([&](OpContext& ctx) { return storage_->head(key, ctx); }, effective(std::move(options)));
}

Status Client::remove(std::string key, OpOptions options) {
  return pool_->run([&](OpContext& ctx) { return storage_->remove(key, ctx); }, effective(std::move(options)));
}

Result<DeleteManyResult> Client::remove_many(std::vector<std::string> keys, OpOptions options) {
  return pool_->run([&](OpContext& ctx) { return storage_->remove_many(keys, ctx); },
                    effective(std::move(options)));
}

Result<PutResult> Client::copy(CopyRequest request, OpOptions options) {
  return pool_->run([&](OpContext& ctx) { return storage_->copy(request, ctx); }, effective(std::move(options)));
}

Result<ListPage> Client::list(ListRequest request, OpOptions options) {
  return pool_->run([&](OpContext& ctx) { return storage_->list(request, ctx); }, effective(std::move(options)));
}

Status Client::list_each(std::string prefix, const std::function<bool(ObjectMeta&)>& visit, OpOptions options) {
  ListRequest request;
  request.prefix = std::move(prefix);
  request.max_keys = 1000;
  // Each page is its own pool operation; a server that repeats a token must not loop us forever.
  for (;;) {
    auto page = list(request, options);
    if (!page.ok()) return page.status().with_context("list " + request.prefix);
    for (auto& m : page->objects) {
      if (!visit(m)) return Status::OK();
    }
    if (!page->truncated) return Status::OK();
    const std::string& next = page->next_continuation_token;
    if (next.empty() || next == request.continuation_token) {
      return Status::Internal("list " + request.prefix, std::string("listing did not advance (continuation token ") +
                                                            (next.empty() ? "missing" : "repeated") + ")");
    }
    request.continuation_token = std::move(page->next_continuation_token);
  }
}

Result<std::vector<ObjectMeta>> Client::list_all(std::string prefix, OpOptions options) {
  std::vector<ObjectMeta> all;
  S3DB_RETURN_IF_ERROR(list_each(std::move(prefix), [&](ObjectMeta& m) {
    all.push_back(std::move(m));
    return true;
  }, std::move(options)));
  return all;
}

// Async forms: the op owns its arguments (the caller's may be gone when it runs) and the storage
// through a shared_ptr, so a Future may outlive this Client.
Future<PutResult> Client::put_async(PutRequest request, OpOptions options) {
  return pool_->submit([storage = storage_, request = std::move(request)](OpContext& ctx) {
    return storage->put(request, ctx);
  }, effective(std::move(options)));
}

Future<Object> Client::get_async(std::string key, OpOptions options) {
  return pool_->submit([storage = storage_, key = std::move(key)](OpContext& ctx) {
    return storage->get(key, ctx);
  }, effective(std::move(options)));
}

Future<void> Client::remove_async(std::string key, OpOptions options) {
  return pool_->submit([storage = storage_, key = std::move(key)](OpContext& ctx) {
    return storage->remove(key, ctx);
  }, effective(std::move(options)));
}

}  // namespace s3db
