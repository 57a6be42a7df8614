// Placeholder until the S3 client lands.
#include "storage/s3/s3_client.h"

namespace s3db::s3 {
Result<std::unique_ptr<StorageClient>> make_s3_client(const ConnectionOptions&) {
  return Status::InvalidArgument("s3 client", "not built yet");
}
}  // namespace s3db::s3
