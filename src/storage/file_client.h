// Internal: FileClient construction with options (the public factory is
// s3db::make_file_client in s3db/storage_client.h).
#pragma once

#include "s3db/storage_client.h"

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace s3db::storage {

struct FileClientOptions {
  // fsync each object file before renaming it into place, and the directory after (durability
  // across power loss). Turning it off keeps atomicity (rename) but a crash may lose the latest
  // writes.
  bool fsync = true;
  // Test hook, null in production: put() calls it with the key's lock held, after the condition
  // check and just before the rename, so that a test can hold a writer at the one moment when
  // another process's mutation of the key must wait (tests/storage/file_client_test.cc).
  std::function<void(std::string_view key)> before_commit_for_test;
};

// Opens (creating if needed) the store under `root`, removing temp files left by dead writers.
Result<std::unique_ptr<StorageClient>> make_file_client(const std::string& root, FileClientOptions options);

}  // namespace s3db::storage
