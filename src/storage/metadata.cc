// metadata_size(): what S3 counts against its 2 KB user-metadata limit.
#include "s3db/storage_client.h"

namespace s3db {

// S3 counts the UTF-8 bytes of every key and value (without the "x-amz-meta-" prefix). std::string
// already holds UTF-8 bytes, so the byte length is the count.
std::size_t metadata_size(const Metadata& metadata) noexcept {
  std::size_t total = 0;
  for (const auto& [key, value] : metadata) total += key.size() + value.size();
  return total;
}

}  // namespace s3db
