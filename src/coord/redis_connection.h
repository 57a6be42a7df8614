// Internal: one connection to Redis (hiredis), for the limit shared across processes (issue 11).
//
// Contract
// - URL: redis://[[user]:password@]host[:port][/db] or unix:///path/to/socket[?db=N]; reserved
//   characters of the user or password are percent-encoded (%3F %40 %2F %25 %3A). Bad URL →
//   InvalidArgument naming the part (never the password). Port 6379 and db 0 by default.
// - open(): connects with `timeout` (also every command's timeout), AUTH when a password is given
//   (wrong → Unauthorized), SELECT db. Refused / unreachable / timed out → Unavailable.
// - Replies are copied out of hiredis into Reply; errors the server answers become Status with the
//   server's text (which never contains the password: it is sent only by AUTH).
// - eval(): EVALSHA with the SHA-1 that SCRIPT LOAD gave on this connection; on NOSCRIPT (a
//   restarted or flushed Redis) it loads the script again and retries once. A script crosses the
//   wire once per connection and server lifetime.
// - A server that died mid-connection is Unavailable, never a SIGPIPE that ends the process: the
//   calling thread blocks SIGPIPE for each command and takes off one its write raised.
// - Not thread-safe: one connection per thread, or a mutex around it (the caller's).
#pragma once

#include <s3db/status.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct redisContext;

namespace s3db::coord {

struct RedisUrl {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string unix_path;  // set for unix:// URLs
  int db = 0;
  std::string user;
  std::string password;  // a secret: never printed
  // The URL without its password ("redis://user:***@host:port/db"), for messages.
  std::string describe() const;
};
Result<RedisUrl> parse_redis_url(std::string_view url);

struct Reply {
  enum class Type : std::uint8_t { kNil, kInteger, kString, kArray, kStatus };
  Type type = Type::kNil;
  std::int64_t integer = 0;
  std::string str;
  std::vector<Reply> elements;
};

// A Lua script; connections remember its SHA-1 by address, so a Script must outlive them (scripts
// are static constants).
struct Script {
  std::string_view source;
};

class RedisConnection {
 public:
  static Result<RedisConnection> open(const RedisUrl& url, std::chrono::milliseconds timeout);
  RedisConnection(RedisConnection&&) noexcept;
  RedisConnection& operator=(RedisConnection&&) noexcept;
  ~RedisConnection();

  Result<Reply> command(const std::vector<std::string>& argv);
  Result<Reply> eval(const Script& script, const std::vector<std::string>& keys, const std::vector<std::string>& args);
  const std::string& where() const noexcept { return where_; }

 private:
  RedisConnection(redisContext* c, std::string where) : ctx_(c), where_(std::move(where)) {}
  Result<std::string> load(const Script& script);
  redisContext* ctx_ = nullptr;
  std::string where_;  // the URL, described without secrets
  std::vector<std::pair<const Script*, std::string>> loaded_;  // script → SHA-1 on this server
};

}  // namespace s3db::coord
