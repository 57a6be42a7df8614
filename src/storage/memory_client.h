// Internal: MemoryClient construction with a description label (the public factory is
// s3db::make_memory_client in s3db/storage_client.h).
#pragma once

#include "s3db/storage_client.h"

#include <memory>
#include <string>

namespace s3db::storage {

// `label` is what describe() returns, e.g. "memory://bucket/prefix".
std::unique_ptr<StorageClient> make_memory_client(MemoryClientOptions options, std::string label);

}  // namespace s3db::storage
