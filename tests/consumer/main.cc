// Uses the installed s3db through its public headers only.
#include <s3db/operation_pool.h>

#include <cstdio>

int main() {
  s3db::OperationPool pool(s3db::PoolOptions{});
  auto future = pool.submit([](s3db::OpContext&) { return s3db::Result<int>(42); });
  auto result = future.get();
  if (!result.ok() || *result != 42) {
    std::fprintf(stderr, "consumer: unexpected result %s\n", result.status().to_string().c_str());
    return 1;
  }
  std::printf("consumer: pool answered %d\n", *result);
  return 0;
}
