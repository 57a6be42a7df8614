// Uses the installed optional component s3db::prometheus: a pool's families through prometheus-cpp.
#include <s3db/operation_pool.h>
#include <s3db/prometheus.h>

#include <prometheus/text_serializer.h>

#include <cstdio>
#include <sstream>

int main() {
  s3db::OperationPool pool({.concurrency = 4});
  if (!pool.run([](s3db::OpContext&) { return s3db::Status::OK(); }).ok()) return 1;
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, s3db::pool_collectable(pool)->Collect());
  if (out.str().find("s3db_pool_processed_total{pool=\"s3db\"} 1\n") == std::string::npos) {
    std::fprintf(stderr, "consumer_prometheus: unexpected exposition:\n%s", out.str().c_str());
    return 1;
  }
  std::puts("consumer_prometheus: OK");
  return 0;
}
