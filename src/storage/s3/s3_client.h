// Internal: the S3 implementation of StorageClient (libcurl + SigV4). Built by make_storage_client().
#pragma once

#include "s3db/connection.h"
#include "s3db/storage_client.h"

#include <memory>

namespace s3db::s3 {

// Builds an S3Client for a kS3 ConnectionOptions. InvalidArgument when options are unusable
// (no bucket, no credentials, bad endpoint).
Result<std::unique_ptr<StorageClient>> make_s3_client(const ConnectionOptions& options);

}  // namespace s3db::s3
