// `--metrics-listen HOST:PORT` on long commands: /metrics answers live while an import runs
// (scraped with libcurl during the import, which waits on its stdin pipe meanwhile: no timing
// assumption), and bad addresses or a busy port are one clear usage error naming the flag.
#include "cli/cli_support.h"
#include "support/http_get.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <regex>
#include <thread>
#include <utility>

using namespace cli_test;

namespace {

// A socket listening on 127.0.0.1 at a port the kernel picked (closed by the destructor).
struct LoopbackListener {
  int fd = -1;
  int port = 0;
  LoopbackListener() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), len) == 0 && ::listen(fd, 1) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
      port = ntohs(a.sin_port);
  }
  ~LoopbackListener() { ::close(fd); }
};

// A port free a moment ago (the kernel does not hand it out again at once).
int free_port() {
  LoopbackListener l;
  return l.port;
}

// GET http://127.0.0.1:port/path; `status` 0 when nothing answered.
std::string http_get(int port, const std::string& path, long& status) {
  std::string body;
  status = s3db::testing::http_get("http://127.0.0.1:" + std::to_string(port) + path, body);
  return body;
}

std::uint64_t processed_in(const std::string& body) {
  std::smatch m;
  static const std::regex re("\\ns3db_pool_processed_total\\{pool=\"s3db-cli\"\\} ([0-9]+)\\n");
  return std::regex_search(body, m, re) ? std::stoull(m[1]) : 0;
}

// An import from a pipe with --metrics-listen, fed 40 lines, then scraped until /metrics counts
// them (bounded: a safety stop, not a speed assumption). The import then waits for more input.
struct ScrapedImport {
  TempDir d;
  int port = 0;
  int input = -1;  // the import's stdin (write end)
  Child child;
  std::string body;  // the last scrape
  long status = 0;

  explicit ScrapedImport(std::vector<std::string> globals = {}) {
    EXPECT_EQ(run({"--url", d.url(), "create-resource", "users", "--attr", "name=string|required"}).code, 0);
    port = free_port();
    int p[2];
    if (port <= 0 || ::pipe2(p, O_CLOEXEC) != 0) return;
    globals.insert(globals.begin(), {"--url", d.url()});
    child = spawn(cat(globals, {"import", "users", "-", "--metrics-listen", "127.0.0.1:" + std::to_string(port)}), p[0]);
    ::close(p[0]);
    input = p[1];
    std::string lines;
    for (int i = 1; i <= 40; ++i) lines += "{\"id\":\"u" + std::to_string(i) + "\",\"name\":\"n\"}\n";
    write_all(input, lines);
    for (int i = 0; i < 1500 && processed_in(body) < 40 && !exited(child.pid); ++i) {
      body = http_get(port, "/metrics", status);
      if (processed_in(body) < 40) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ~ScrapedImport() {
    if (input >= 0) ::close(input);
  }
};

}  // namespace

TEST(CliMetricsListen, ScrapedDuringAnImport) {
  ScrapedImport im;
  ASSERT_GE(im.input, 0);
  const std::string& body = im.body;
  EXPECT_EQ(im.status, 200);
  EXPECT_GE(processed_in(body), 40u) << body;
  EXPECT_FALSE(exited(im.child.pid)) << "the import ended before its input did";
  EXPECT_NE(body.find("# TYPE s3db_pool_processed_total counter\n"), std::string::npos);
  EXPECT_NE(body.find("# TYPE s3db_pool_execution_seconds histogram\n"), std::string::npos);
  EXPECT_NE(body.find("s3db_pool_concurrency{pool=\"s3db-cli\"} "), std::string::npos);
  EXPECT_NE(body.find("s3db_pool_error_ratio{pool=\"s3db-cli\"} 0\n"), std::string::npos);
  // Nothing of the store's address in any label (a URL may carry credentials).
  EXPECT_EQ(body.find(im.d.path().string()), std::string::npos);
  EXPECT_EQ(body.find("file:"), std::string::npos);
  long other = 0;
  http_get(im.port, "/", other);
  EXPECT_EQ(other, 404);

  write_all(im.input, "{\"id\":\"u41\",\"name\":\"n\"}\n");
  ::close(std::exchange(im.input, -1));
  CliRun r = finish(im.child);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("41"), std::string::npos) << r.out;
  EXPECT_EQ(stored_count(im.d.url(), "users"), 41u);
  // The server went with the command.
  long after = 0;
  http_get(im.port, "/metrics", after);
  EXPECT_EQ(after, 0);
}

TEST(CliMetricsListen, BadAddressIsAUsageErrorNamingTheFlag) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"0.0.0.0:9464", "loopback"},       // not loopback: refused (no authentication)
      {"192.0.2.1:9464", "loopback"},
      {"127.0.0.1", "HOST:PORT"},         // no port
      {"127.0.0.1:http", "1..65535"},
      {"127.0.0.1:70000", "1..65535"},
      {"example.com:9464", "loopback"},
  };
  for (const auto& [address, why] : cases) {
    CliRun r = run({"import", "users", "-", "--metrics-listen", address});
    EXPECT_EQ(r.code, 2) << address << ": " << r.err;
    expect_one_error_line(r);
    EXPECT_NE(r.err.find("--metrics-listen '" + address + "'"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(why), std::string::npos) << r.err;
  }
  CliRun e = run({"export", "users", "--metrics-listen", "10.1.2.3:1"});
  EXPECT_EQ(e.code, 2) << e.err;
  EXPECT_NE(e.err.find("loopback"), std::string::npos) << e.err;
}

TEST(CliMetricsListen, PortInUseIsAClearError) {
  LoopbackListener busy;
  ASSERT_GT(busy.port, 0);
  const std::string address = "127.0.0.1:" + std::to_string(busy.port);
  CliRun r = run({"import", "users", "-", "--metrics-listen", address});
  EXPECT_EQ(r.code, 2) << r.err;
  expect_one_error_line(r);
  EXPECT_NE(r.err.find("--metrics-listen '" + address + "': address already in use"), std::string::npos) << r.err;
}

TEST(CliMetricsListen, BenchServesAndStops) {
  const int port = free_port();
  ASSERT_GT(port, 0);
  CliRun r = run({"bench", "overhead", "--ops", "50", "--metrics-listen", "127.0.0.1:" + std::to_string(port)});
  EXPECT_EQ(r.code, 0) << r.err;
  long after = 0;
  http_get(port, "/metrics", after);
  EXPECT_EQ(after, 0);  // gone with the command
  CliRun bad = run({"bench", "overhead", "--ops", "50", "--metrics-listen", "0.0.0.0:9464"});
  EXPECT_EQ(bad.code, 2) << bad.err;
  EXPECT_NE(bad.err.find("--metrics-listen '0.0.0.0:9464'"), std::string::npos) << bad.err;
}

// The server's thread must not change what SIGINT does to an import: it still drains and
// reports (the server thread runs with signals blocked).
TEST(CliMetricsListen, SigintStillDrainsTheImport) {
  ScrapedImport im({"--json"});
  ASSERT_GE(im.input, 0);
  ::kill(im.child.pid, SIGINT);
  CliRun r = finish(im.child);
  ASSERT_GE(processed_in(im.body), 40u) << im.body;
  EXPECT_EQ(r.code, 130) << r.out << r.err;
  EXPECT_EQ(json::parse(r.out)["interrupted"], "SIGINT") << r.out;
  EXPECT_EQ(stored_count(im.d.url(), "users"), 40u);
}
