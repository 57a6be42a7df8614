// A private redis-server for the coord tests: on a unix socket in a temporary directory (no TCP
// port), started by the constructor and killed by the destructor; REQUIRE_REDIS skips a test
// when it did not start, or fails it under S3DB_REQUIRE_SERVERS=1 (CI).
#pragma once

#include "coord/redis_connection.h"
#include "support/test_env.h"

#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <cstdio>
#include <chrono>
#include <filesystem>
#include <new>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

extern char** environ;

namespace s3db::coord::testing {

using namespace std::chrono_literals;

// Polls `done` for at most `limit` (a broken lease never hangs the test).
template <typename F>
bool within(std::chrono::milliseconds limit, F done) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

// Every byte but letters and digits as %XX (a password in a URL, a URL as a query value).
inline std::string percent_encoded(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    char esc[4];
    std::snprintf(esc, sizeof esc, "%%%02X", c);
    out.append(std::isalnum(c) ? std::string(1, static_cast<char>(c)) : std::string(esc));
  }
  return out;
}

// A T in memory that forked children share with the test (an anonymous shared mapping); unmapped
// when it goes (children leave with _exit, so only the parent's copy does that).
template <typename T>
class SharedWithChildren {
 public:
  SharedWithChildren() {
    void* m = ::mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) std::abort();
    p_ = new (m) T();
  }
  ~SharedWithChildren() {
    p_->~T();
    ::munmap(p_, sizeof(T));
  }
  SharedWithChildren(const SharedWithChildren&) = delete;
  SharedWithChildren& operator=(const SharedWithChildren&) = delete;
  T* get() const { return p_; }

 private:
  T* p_;
};

// Waits for the child `pid` at most `limit`; kills it if it is still running. Its exit code, or -1.
inline int reap(pid_t pid, std::chrono::seconds limit) {
  int status = 0;
  const bool ended = within(limit, [&] { return ::waitpid(pid, &status, WNOHANG) == pid; });
  if (!ended) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

class PrivateRedis {
 public:
  // With `tcp`, it also listens on a free loopback port (tcp_url(): the password in a URL).
  explicit PrivateRedis(std::string password = "", bool tcp = false) : password_(std::move(password)) {
    if (tcp) tcp_port_ = free_port();
    dir_ = std::filesystem::temp_directory_path() / ("s3db-redis-" + std::to_string(::getpid()) + "-" + std::to_string(++n_));
    std::filesystem::create_directories(dir_);
    socket_ = (dir_ / "redis.sock").string();
    spawn();
  }
  ~PrivateRedis() {
    kill_server();
    std::filesystem::remove_all(dir_);
  }
  // kill -9 of the server (its data is gone: no persistence), and a new one on the same socket.
  void kill_server() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
    up_ = false;
  }
  void restart() {
    kill_server();
    std::filesystem::remove(socket_);
    spawn();
  }
  bool up() const { return up_; }
  std::string url() const { return "unix://" + socket_; }
  // redis://:<password, percent-encoded>@127.0.0.1:<port>/0 (needs `tcp`).
  std::string tcp_url() const {
    return "redis://:" + percent_encoded(password_) + "@127.0.0.1:" + std::to_string(tcp_port_) + "/0";
  }
  RedisConnection connect(const std::string& url_override = "") const {
    auto u = parse_redis_url(url_override.empty() ? url() : url_override);
    EXPECT_TRUE(u.ok()) << u.status().to_string();
    auto c = RedisConnection::open(*u, 10s);  // generous: a loaded CI machine must not fail a command
    EXPECT_TRUE(c.ok()) << c.status().to_string();
    return std::move(c).value();
  }

 private:
  void spawn() {
    const std::string password = password_;
    std::vector<std::string> args = {"redis-server", "--port", std::to_string(tcp_port_), "--bind", "127.0.0.1",
                                     "--unixsocket", socket_, "--save", "",
                                     "--appendonly", "no", "--dir", dir_.string(), "--daemonize", "no",
                                     "--loglevel", "warning"};
    if (!password.empty()) {
      args.push_back("--requirepass");
      args.push_back(password);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (::posix_spawnp(&pid_, "redis-server", nullptr, nullptr, argv.data(), environ) != 0) pid_ = -1;
    // Up when it answers PING: the socket file exists a moment before the server accepts on it.
    up_ = pid_ > 0 && within(30s, [&] {
            RedisUrl u;
            u.unix_path = socket_;
            auto c = RedisConnection::open(u, 1s);
            if (!c.ok()) return false;
            auto pong = c->command({"PING"});
            return pong.ok() || pong.status().code() == Code::kUnauthorized;  // it answered
          });
  }

  // A loopback port nobody listens on now (the kernel's pick for a socket bound to port 0).
  static int free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = 0;
    if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
      port = ntohs(a.sin_port);
    }
    if (fd >= 0) ::close(fd);
    return port;
  }

  static inline int n_ = 0;
  int tcp_port_ = 0;
  std::string password_;
  std::filesystem::path dir_;
  std::string socket_;
  pid_t pid_ = -1;
  bool up_ = false;
};

// A redis-server that does not start skips the test, or fails it under S3DB_REQUIRE_SERVERS=1 (CI).
#define REQUIRE_REDIS(r)                                                                          \
  if (!(r).up()) {                                                                                \
    if (::s3db::testing::servers_required()) FAIL() << "redis-server did not start";              \
    GTEST_SKIP() << "redis-server did not start (scripts/install-deps.sh --test installs it)";     \
  }

}  // namespace s3db::coord::testing
