// RateCappedStorage: a token per request, then the target (rules in rate_capped_storage.h).
#include "storage/rate_capped_storage.h"

namespace s3db {

void RateCappedStorage::set_gates(std::shared_ptr<coord::RateGate> put, std::shared_ptr<coord::RateGate> get) {
  put_owner_ = std::move(put);
  get_owner_ = std::move(get);
  put_.store(put_owner_.get(), std::memory_order_release);
  get_.store(get_owner_.get(), std::memory_order_release);
}

#define S3DB_ADMIT(gate)                             \
  if (Status admitted = admit(gate, c); !admitted.ok()) return admitted

Result<PutResult> RateCappedStorage::put(const PutRequest& r, OpContext& c) {
  S3DB_ADMIT(put_);
  return target_->put(r, c);
}

Result<PutResult> RateCappedStorage::put_moved(PutRequest&& r, OpContext& c) {
  S3DB_ADMIT(put_);
  return target_->put_moved(std::move(r), c);
}

Result<Object> RateCappedStorage::get(std::string_view k, OpContext& c) {
  S3DB_ADMIT(get_);
  return target_->get(k, c);
}

Result<ObjectMeta> RateCappedStorage::head(std::string_view k, OpContext& c) {
  S3DB_ADMIT(get_);
  return target_->head(k, c);
}

Status RateCappedStorage::remove(std::string_view k, OpContext& c) {
  S3DB_ADMIT(put_);
  return target_->remove(k, c);
}

Result<DeleteManyResult> RateCappedStorage::remove_many(const std::vector<std::string>& k, OpContext& c) {
  S3DB_ADMIT(put_);
  return target_->remove_many(k, c);
}

Result<PutResult> RateCappedStorage::copy(const CopyRequest& r, OpContext& c) {
  S3DB_ADMIT(put_);
  return target_->copy(r, c);
}

Result<ListPage> RateCappedStorage::list(const ListRequest& r, OpContext& c) {
  S3DB_ADMIT(get_);
  return target_->list(r, c);
}

#undef S3DB_ADMIT

}  // namespace s3db
