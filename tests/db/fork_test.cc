// Processes forked after the library was used (issue 8, item 1): every child must draw its own
// ids and write stamps — a child inherits its parent's memory, random generator state included —
// and concurrent writers in several processes must lose no acknowledged update.
#include "s3db/resource.h"

#include "db/ids.h"
#include "db_fixture.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <sstream>
#include <thread>

namespace s3db::testing {
namespace {

using nlohmann::json;

constexpr int kChildren = 4;
constexpr int kInsertsPerChild = 25;
constexpr int kUpdatesPerChild = 50;

// Waits for `pid` at most `limit`; kills it past that (a hung child fails the test, never hangs it).
int wait_bounded(pid_t pid, std::chrono::seconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (std::chrono::steady_clock::now() < until) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return -1;
}

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) out.append(buf, static_cast<std::size_t>(n));
    else if (n == 0 || errno != EINTR) break;
  }
  return out;
}

// Forks a child that runs `child(write end of a pipe)` and must end with _Exit; returns its pid
// and the read end (pid -1 when fork or pipe failed).
template <class Child>
std::pair<pid_t, int> fork_with_pipe(Child child) {
  int fds[2];
  if (::pipe(fds) != 0) return {-1, -1};
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    child(fds[1]);
    std::_Exit(99);
  }
  ::close(fds[1]);
  return {pid, fds[0]};
}

class ForkTest : public DbTest {};

TEST(ForkIds, AForkedChildDrawsOtherIdsThanItsParent) {
  (void)db::random_id();  // the generator of this thread is seeded and in use
  auto [pid, fd] = fork_with_pipe([](int out) {
    std::string ids;
    for (int i = 0; i < 100; ++i) ids += db::random_id() + "\n";
    std::_Exit(::write(out, ids.data(), ids.size()) == static_cast<ssize_t>(ids.size()) ? 0 : 1);
  });
  ASSERT_GT(pid, 0);
  std::set<std::string> mine;
  for (int i = 0; i < 100; ++i) mine.insert(db::random_id());
  std::istringstream theirs(read_all(fd));
  ::close(fd);
  ASSERT_EQ(wait_bounded(pid, std::chrono::seconds(30)), 0);
  int lines = 0;
  for (std::string id; std::getline(theirs, id); ++lines) EXPECT_FALSE(mine.count(id)) << "parent and child drew " << id;
  EXPECT_EQ(lines, 100);
}

// The child: inserts documents with generated ids (written to `out`, one per line), then
// increments the shared counter. Exit 0 when every call succeeded.
[[noreturn]] void child_work(const std::string& uri, const DatabaseOptions& options, int out) {
  auto db = Database::open(uri, options);
  if (!db.ok()) std::_Exit(10);
  auto r = db->resource("forked");
  if (!r.ok()) std::_Exit(11);
  std::string ids;
  for (int i = 0; i < kInsertsPerChild; ++i) {
    auto ins = r->insert({{"n", -1}});  // a generated id: AlreadyExists would mean a repeated id
    if (!ins.ok()) std::_Exit(ins.status().is_already_exists() ? 12 : 13);
    ids += (*ins)["id"].get<std::string>() + "\n";
  }
  if (::write(out, ids.data(), ids.size()) != static_cast<ssize_t>(ids.size())) std::_Exit(14);
  for (int i = 0; i < kUpdatesPerChild; ++i) {
    auto up = r->update("counter", [](json cur) {
      cur["n"] = cur["n"].get<std::int64_t>() + 1;
      return cur;
    });
    if (!up.ok()) std::_Exit(15);
  }
  std::_Exit(0);
}

TEST_P(ForkTest, ChildrenForkedAfterUseDrawDistinctIdsAndLoseNoUpdate) {
  if (GetParam() == "memory") GTEST_SKIP() << "a memory store is not shared between processes";
#if defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "ThreadSanitizer cannot run a child that starts threads after a multi-threaded fork; "
                  "the release and ASan runs cover this test";
#endif
  ResourceConfig c;
  c.name = "forked";
  c.attributes = {{"n", "integer|required"}};
  auto r = make(c);
  // Use the library on this thread before forking: an insert with a generated id and a write.
  ASSERT_TRUE(r.insert({{"n", 0}}).ok());
  ASSERT_TRUE(r.insert({{"id", "counter"}, {"n", 0}}).ok());
  client_->pool().drain();  // no worker holds a lock while we fork

  std::vector<std::pair<pid_t, int>> children;
  for (int i = 0; i < kChildren; ++i) {
    children.push_back(fork_with_pipe([this](int out) { child_work(uri_, options(), out); }));
    ASSERT_GT(children.back().first, 0);
  }
  std::set<std::string> ids;
  int generated = 0;
  for (auto [pid, fd] : children) {
    std::istringstream lines(read_all(fd));
    ::close(fd);
    for (std::string id; std::getline(lines, id);) {
      ++generated;
      EXPECT_TRUE(ids.insert(id).second) << "two processes generated id " << id;
    }
    EXPECT_EQ(wait_bounded(pid, std::chrono::seconds(300)), 0) << "child " << pid << " failed (12: a repeated id)";
  }
  EXPECT_EQ(generated, kChildren * kInsertsPerChild);
  EXPECT_EQ(r.get("counter").value()["n"], kChildren * kUpdatesPerChild) << "acknowledged updates were lost";
  EXPECT_EQ(r.count().value(), static_cast<std::size_t>(2 + kChildren * kInsertsPerChild));
}

INSTANTIATE_TEST_SUITE_P(Backends, ForkTest, ::testing::Values("memory", "file", "rgw"), backend_name);

}  // namespace
}  // namespace s3db::testing
