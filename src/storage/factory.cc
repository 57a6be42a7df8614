// make_storage_client(): ConnectionOptions → the StorageClient they describe.
#include "s3db/connection.h"
#include "s3db/storage_client.h"
#include "storage/file_client.h"
#include "storage/memory_client.h"
#include "storage/s3/s3_client.h"

namespace s3db {

Result<std::unique_ptr<StorageClient>> make_storage_client(const ConnectionOptions& options) {
  switch (options.kind) {
    case StorageKind::kMemory: {
      // Each memory client is its own store (nothing is shared through the bucket name), so the
      // URI's prefix cannot collide with anything and only appears in describe().
      std::string label = "memory://" + options.bucket;
      if (!options.prefix.empty()) label += "/" + options.prefix;
      return storage::make_memory_client(MemoryClientOptions{}, std::move(label));
    }
    case StorageKind::kFile:
      return storage::make_file_client(options.path, storage::FileClientOptions{});
    case StorageKind::kS3:
      return s3::make_s3_client(options);
  }
  return Status::InvalidArgument("make_storage_client", "unknown storage kind");
}

}  // namespace s3db
