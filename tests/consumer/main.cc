// Uses the installed s3db through its public headers only: the README's two examples.
#include <s3db/database.h>
#include <s3db/operation_pool.h>

#include <chrono>
#include <cstdio>
#include <string>

int main() {
  // The pool on its own.
  s3db::OperationPool pool({.concurrency = 50});
  auto f = pool.submit([](s3db::OpContext&) -> s3db::Result<int> { return 42; },
                       {.priority = 10, .timeout = std::chrono::seconds(5)});
  s3db::Result<int> r = f.get();
  if (!r.ok() || *r != 42) {
    std::fprintf(stderr, "consumer: pool answered %s\n", r.status().to_string().c_str());
    return 1;
  }

  // Documents on memory://.
  auto db = s3db::Database::open("memory://demo").value();
  auto users = db.create_resource({.name = "users",
                                   .attributes = {{"name", "string|required|min:2"},
                                                  {"email", "email|required"},
                                                  {"age", "integer|min:0"}}}).value();
  auto alice = users.insert({{"name", "Alice"}, {"email", "alice@example.com"}, {"age", 31}});
  if (!alice.ok()) {
    std::fprintf(stderr, "consumer: insert failed: %s\n", alice.status().to_string().c_str());
    return 1;
  }
  auto again = users.get(alice->at("id").get<std::string>());
  if (!again.ok() || again->at("name") != "Alice") {
    std::fprintf(stderr, "consumer: get failed: %s\n", again.status().to_string().c_str());
    return 1;
  }
  auto bad = users.insert({{"name", "B"}, {"email", "not-an-email"}});
  if (bad.ok() || bad.status().code() != s3db::Code::kInvalidArgument) {
    std::fprintf(stderr, "consumer: a record that breaks the schema was accepted\n");
    return 1;
  }
  std::printf("consumer: pool answered %d; stored and read back %s\n", *r,
              again->at("name").get<std::string>().c_str());
  return 0;
}
