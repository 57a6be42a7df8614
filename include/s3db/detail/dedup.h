// s3db/detail/dedup.h — the typed half of operation deduplication (OpOptions::dedup_key).
//
// Included by operation_pool.h; not a public header of its own. The pool's table of keys
// (src/pool/dedup.h) is type-erased; what needs the result type T lives here:
// - DedupValue<T>: one per deduplicated op (a shared_ptr, allocated only when dedup_key is set).
//   A leader keeps a copy of its successful result in its own; the pool points a joiner's (or a
//   TTL reuser's) `source` at the leader's, under the pool mutex, before it runs the joiner.
// - Deduplicated<T, G>: the closure the pool runs for such an op. A leader runs the caller's op
//   and keeps the value; a joiner never calls the op, it copies the leader's value.
// The value is written once, by the leader's successful attempt, before the pool publishes the
// leader's completion under its mutex; it is only read (copied, const) after that.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace s3db::detail {

struct DedupValueBase {
  virtual ~DedupValueBase() = default;
  std::shared_ptr<const DedupValueBase> source;  // set by the pool: the leader's value to copy
  bool keep = false;                              // set by the pool: this op leads, keep its value
};

template <class T>
struct DedupValue final : DedupValueBase {
  std::optional<T> value;
  void set(const Result<T>& r) { value.emplace(*r); }
  Result<T> copy() const {
    if (!value) return Status::Internal("deduplicated op", "the leader kept no value");
    return Result<T>(*value);
  }
};

template <>
struct DedupValue<void> final : DedupValueBase {
  void set(const Status&) {}
  Status copy() const { return Status(); }
};

// Ops whose result can be handed to several callers: void, or a copyable T.
template <class T>
inline constexpr bool kDedupable = std::is_void_v<T> || std::is_copy_constructible_v<T>;

// G is the caller's callable (submit: owned) or a reference to it (run: borrowed).
template <class T, class G>
struct Deduplicated {
  G op;
  std::shared_ptr<DedupValue<T>> mine;
  OpResult<T> operator()(OpContext& ctx) {
    if (mine->source) return static_cast<const DedupValue<T>&>(*mine->source).copy();
    OpResult<T> r = std::invoke(op, ctx);
    if (mine->keep && r.ok()) mine->set(r);
    return r;
  }
};

}  // namespace s3db::detail
