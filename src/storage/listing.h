// Internal: S3 ListObjectsV2 semantics over any sorted key set (used by MemoryClient and
// FileClient so that both page exactly alike).
//
// - Keys are compared as bytes (UTF-8 byte order), like S3.
// - A page holds at most max_keys (clamped to 1..1000) entries, keys and common prefixes counted
//   together; a truncated page carries an opaque continuation token naming the last entry.
// - A continuation token wins over start_after (S3 ignores start_after when a token is given).
// - A malformed token → InvalidArgument.
#pragma once

#include "s3db/storage_client.h"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace s3db::storage {

// Returns the first key ≥ bound (inclusive) or > bound (!inclusive), or nullopt at the end.
// The returned view must stay valid until the next call.
using NextKey = std::function<std::optional<std::string_view>(std::string_view bound, bool inclusive)>;

struct KeyPage {
  std::vector<std::string> keys;             // object keys, in order
  std::vector<std::string> common_prefixes;  // in order
  std::string next_continuation_token;
  bool truncated = false;
};

[[nodiscard]] Result<KeyPage> paginate(const ListRequest& request, const NextKey& next);

// Where a page of `request` starts (its continuation token, else start_after, else the prefix):
// the first key ≥ bound (inclusive) or > bound. A store that cannot seek (FileClient) uses it to
// keep only the keys a page can hold while it reads its directory. InvalidArgument for a malformed
// token, as paginate().
struct ResumePoint {
  std::string bound;
  bool inclusive = true;
  bool at_end = false;  // nothing can follow (the token named the last possible common prefix)
  bool admits(std::string_view key) const noexcept;
};
[[nodiscard]] Result<ResumePoint> resume_point(const ListRequest& request);

// The smallest string greater than every string starting with `prefix`; nullopt when none exists
// (prefix empty or all 0xFF bytes).
std::optional<std::string> prefix_successor(std::string_view prefix);

}  // namespace s3db::storage
