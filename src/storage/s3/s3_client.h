// Internal: the S3 implementation of StorageClient (libcurl + SigV4). Built by make_storage_client().
//
// Contract: see s3db/storage_client.h. In short: thread-safe; every call is one HTTP exchange
// (copy with REPLACE and no content type adds a HEAD of the source; remove_many one POST per
// 1,000 keys); never retries; a cancelled OpContext aborts the transfer and the call returns
// ctx.cancel_status(); all failures go through map_error() (errors.h). Keys live under the
// connection's prefix ("prefix/key"); callers never see the prefix. Every exchange is bounded by
// the connection's limits (connect timeout, low-speed limit, timeout_ms → Timeout) and its body
// by max_object_bytes (an object's GET) or max_response_bytes (anything else) → InvalidArgument.
#pragma once

#include "s3db/connection.h"
#include "s3db/storage_client.h"

#include <memory>

namespace s3db::s3 {

// Builds an S3Client for a kS3 ConnectionOptions. InvalidArgument when options are unusable
// (no bucket, no credentials, bad endpoint).
Result<std::unique_ptr<StorageClient>> make_s3_client(const ConnectionOptions& options);

}  // namespace s3db::s3
