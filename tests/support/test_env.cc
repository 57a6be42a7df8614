#include "support/test_env.h"

#include "core/encoding.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <random>

namespace s3db::testing {

std::optional<std::string> test_server_url(const char* env_var) {
  const char* v = std::getenv(env_var);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

bool servers_required() {
  const char* v = std::getenv("S3DB_REQUIRE_SERVERS");
  return v != nullptr && std::string(v) == "1";
}

std::string missing_server_message(const char* env_var) {
  return std::string("server not configured: set ") + env_var +
         " (run scripts/test-servers.sh start, then source .run/servers.env)";
}

const std::string& run_id() {
  static const std::string id = [] {
    std::random_device rd;
    std::mt19937_64 gen((static_cast<std::uint64_t>(rd()) << 32) ^ rd());
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
    const std::uint64_t r = gen();
    const std::string rnd = encoding::to_hex(std::string_view(reinterpret_cast<const char*>(&r), 4));
    return "t-" + std::to_string(secs) + "-" + std::to_string(::getpid()) + "-" + rnd;
  }();
  return id;
}

std::string unique_test_prefix() {
  static std::atomic<int> counter{0};
  std::string name = "unknown";
  if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info()) {
    name = std::string(info->test_suite_name()) + "." + info->name();
  }
  // Parameterised names carry '/': keep the prefix one segment per part.
  for (char& c : name) {
    if (c == '/') c = '.';
  }
  return run_id() + "/" + name + "-" + std::to_string(counter.fetch_add(1)) + "/";
}

}  // namespace s3db::testing
