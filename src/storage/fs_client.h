// Internal: FileSystemClient construction with options (the public factory is
// s3db::make_file_client in s3db/storage_client.h).
#pragma once

#include "s3db/storage_client.h"

#include <memory>
#include <string>

namespace s3db::storage {

struct FileClientOptions {
  // fsync each object file before renaming it into place, and the directory after (durability
  // across power loss). Turning it off keeps atomicity (rename) but a crash may lose the latest
  // writes.
  bool fsync = true;
};

// Opens (creating if needed) the store under `root`, removing temp files left by dead writers.
Result<std::unique_ptr<StorageClient>> make_file_client(const std::string& root, FileClientOptions options);

}  // namespace s3db::storage
