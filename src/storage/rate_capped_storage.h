// Internal: a Client's storage as its ops see it — every request first takes a token from its
// kind's rate gate, once one is set (s3db/shared_limit.h: rate_put for PUT, COPY, DELETE and
// multi-object DELETE; rate_get for GET, HEAD and LIST).
//
// Contract
// - Without gates (the default) a request is forwarded at the cost of one relaxed atomic load.
// - set_gates(): once per object (the Client refuses a second join); requests already running are
//   not capped, later ones are. The gates live as long as this object.
// - A request refused by its gate (Timeout at the attempt's deadline, or the attempt's
//   cancellation) was never sent: the store saw nothing.
// - Thread-safe, as the target is.
#pragma once

#include <s3db/storage_client.h>

#include <atomic>
#include <memory>

#include "coord/rate_gate.h"

namespace s3db {

class RateCappedStorage final : public StorageClient {
 public:
  explicit RateCappedStorage(std::shared_ptr<StorageClient> target) : target_(std::move(target)) {}
  void set_gates(std::shared_ptr<coord::RateGate> put, std::shared_ptr<coord::RateGate> get);

  std::string_view kind() const noexcept override { return target_->kind(); }
  std::string describe() const override { return target_->describe(); }
  Result<PutResult> put(const PutRequest& r, OpContext& c) override;
  Result<PutResult> put_moved(PutRequest&& r, OpContext& c) override;
  Result<Object> get(std::string_view k, OpContext& c) override;
  Result<ObjectMeta> head(std::string_view k, OpContext& c) override;
  Status remove(std::string_view k, OpContext& c) override;
  Result<DeleteManyResult> remove_many(const std::vector<std::string>& k, OpContext& c) override;
  Result<PutResult> copy(const CopyRequest& r, OpContext& c) override;
  Result<ListPage> list(const ListRequest& r, OpContext& c) override;
  HedgeStats hedge_stats() const override { return target_->hedge_stats(); }

 private:
  static Status admit(const std::atomic<coord::RateGate*>& gate, OpContext& ctx) {
    coord::RateGate* g = gate.load(std::memory_order_acquire);
    return g ? g->take(ctx) : Status::OK();
  }

  std::shared_ptr<StorageClient> target_;
  std::shared_ptr<coord::RateGate> put_owner_, get_owner_;
  std::atomic<coord::RateGate*> put_{nullptr}, get_{nullptr};
};

}  // namespace s3db
