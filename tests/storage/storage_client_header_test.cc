// storage_client.h depends on OpContext (s3db/op_context.h), not on the pool: a StorageClient
// implementation or caller does not pull in OperationPool, Future or the pool's task types.
// Checked at compile time: this file includes storage_client.h first and alone.
#include "s3db/storage_client.h"

#include <gtest/gtest.h>

// Fallbacks that unqualified lookup from inside namespace s3db finds only when s3db declares no
// entity of that name (the using-directive puts them in the global namespace for lookup, behind
// s3db's own names).
namespace storage_header_probe {
struct OperationPool { static constexpr bool fallback = true; };
template <class> struct Future { static constexpr bool fallback = true; };
}  // namespace storage_header_probe

namespace s3db::storage_header_test {
using namespace ::storage_header_probe;

template <class T>
concept Fallback = requires { T::fallback; };

static_assert(Fallback<OperationPool>,
              "storage_client.h declares OperationPool: include s3db/op_context.h, not operation_pool.h");
static_assert(Fallback<Future<int>>, "storage_client.h declares Future: it must not include s3db/detail/future.h");

// What a client call does need: a standalone OpContext, no pool.
TEST(StorageClientHeader, ClientCallsNeedOnlyAnOpContext) {
  auto client = make_memory_client();
  OpContext ctx;
  PutRequest put;
  put.key = std::string("k");   // moved in: assigning a literal trips GCC 12's -Wrestrict false positive
  put.body = std::string("v");
  ASSERT_TRUE(client->put(put, ctx).ok());
  auto got = client->get("k", ctx);
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(got->body, "v");
  EXPECT_EQ(ctx.attempt(), 1);
  EXPECT_FALSE(ctx.cancelled());
}

}  // namespace s3db::storage_header_test
