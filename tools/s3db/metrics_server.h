// tools/s3db/metrics_server.h — `--metrics-listen HOST:PORT`: serves GET /metrics (Prometheus
// text 0.0.4) on a loopback address while a long command (import, export, bench) runs.
//
// Contract
// - parse_listen_address() accepts 127.x.y.z:PORT, localhost:PORT and [::1]:PORT, PORT in
//   1..65535. Anything else is a UsageError naming --metrics-listen: the endpoint has no
//   authentication, so it is never exposed beyond the machine (scrape it through an SSH tunnel or
//   a local agent).
// - MetricsServer::start() binds and listens before it returns: a port already in use (or any
//   other bind failure) is a UsageError naming the flag, the address and the reason. Then one
//   thread accepts connections one at a time: GET /metrics → 200 with `render()`; any other path
//   → 404; another method → 405; a request that does not arrive within 5 s, or over 8 KB, is
//   dropped. Every response closes its connection.
// - render() runs on the server thread, concurrently with the command: it must be thread-safe
//   (Client::prometheus() is). Its output carries no secret (the pool's label is the CLI's
//   fixed name, "s3db-cli").
// - The destructor stops the thread (waking it at once) and closes the socket.
#pragma once

#include <CLI/CLI.hpp>
#include <s3db/client.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace s3db {
class OperationPool;
}

namespace s3db::cli {

struct ListenAddress {
  std::string host;  // numeric: "127.0.0.1", "::1"
  int port = 0;
};

ListenAddress parse_listen_address(const std::string& text);

class MetricsServer {
 public:
  static std::unique_ptr<MetricsServer> start(const std::string& address, std::function<std::string()> render);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

 private:
  MetricsServer(int listen_fd, int wake_read, int wake_write, std::function<std::string()> render);
  void serve();
  void answer(int fd);

  int listen_fd_, wake_read_, wake_write_;
  std::function<std::string()> render_;
  std::thread thread_;
};

// The option on a long command's subcommand, and the server for its pool: nullptr when `address`
// is empty. The server must be destroyed before the pool (declare it after the Database).
void add_metrics_listen_option(CLI::App* sub, std::string& address);
std::unique_ptr<MetricsServer> listen_metrics(const std::string& address, const Client& client);

}  // namespace s3db::cli
