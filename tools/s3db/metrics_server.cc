// The --metrics-listen endpoint (contract in metrics_server.h): a deliberately small HTTP/1.x
// responder — one path, one connection at a time — so the CLI needs no HTTP server library.
#include "metrics_server.h"

#include "cli.h"

#include <s3db/operation_pool.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstring>

namespace s3db::cli {

namespace {

constexpr const char* kFlag = "--metrics-listen";
constexpr std::size_t kMaxRequest = 8192;
constexpr int kRequestTimeoutMs = 5000;

UsageError bad_address(const std::string& text, const std::string& why) {
  return UsageError(std::string(kFlag) + " '" + text + "': " + why);
}

bool send_all(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

std::string response(const char* status, const char* content_type, const std::string& body) {
  std::string r = std::string("HTTP/1.1 ") + status + "\r\nContent-Type: " + content_type +
                  "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
  return r + body;
}

}  // namespace

ListenAddress parse_listen_address(const std::string& text) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) throw bad_address(text, "expected HOST:PORT, e.g. 127.0.0.1:9464");
  std::string host = text.substr(0, colon);
  const std::string port_text = text.substr(colon + 1);
  int port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 1 || port > 65535)
    throw bad_address(text, "the port must be a number in 1..65535");
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  in_addr v4{};
  in6_addr v6{};
  const bool loopback = (::inet_pton(AF_INET, host.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127) ||
                        (::inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6));
  if (!loopback) {
    throw bad_address(text, "only a loopback address is allowed (127.0.0.1, localhost or [::1]): "
                            "the endpoint has no authentication");
  }
  return {host, port};
}

std::unique_ptr<MetricsServer> MetricsServer::start(const std::string& address, std::function<std::string()> render) {
  const ListenAddress a = parse_listen_address(address);
  const bool v6 = a.host.find(':') != std::string::npos;
  const int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw bad_address(address, std::string("cannot create a socket: ") + std::strerror(errno));
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);  // restartable despite TIME_WAIT
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (v6) {
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(static_cast<std::uint16_t>(a.port));
    ::inet_pton(AF_INET6, a.host.c_str(), &s6->sin6_addr);
    len = sizeof *s6;
  } else {
    auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
    s4->sin_family = AF_INET;
    s4->sin_port = htons(static_cast<std::uint16_t>(a.port));
    ::inet_pton(AF_INET, a.host.c_str(), &s4->sin_addr);
    len = sizeof *s4;
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(fd, 16) != 0) {
    const int err = errno;
    ::close(fd);
    throw bad_address(address, err == EADDRINUSE ? "address already in use (another process listens on that port)"
                                                 : std::string("cannot listen: ") + std::strerror(err));
  }
  int wake[2];
  if (::pipe2(wake, O_CLOEXEC) != 0) {
    ::close(fd);
    throw OpError(Status::Internal("metrics server", std::string("pipe: ") + std::strerror(errno)));
  }
  return std::unique_ptr<MetricsServer>(new MetricsServer(fd, wake[0], wake[1], std::move(render)));
}

MetricsServer::MetricsServer(int listen_fd, int wake_read, int wake_write, std::function<std::string()> render)
    : listen_fd_(listen_fd), wake_read_(wake_read), wake_write_(wake_write), render_(std::move(render)) {
  // The server thread starts with every signal blocked, so that SIGINT/SIGTERM reach the
  // command's own threads (StopSignals) and never interrupt a scrape half-way.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  thread_ = std::thread([this] { serve(); });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

MetricsServer::~MetricsServer() {
  const char stop = 1;
  while (::write(wake_write_, &stop, 1) < 0 && errno == EINTR) {
  }
  thread_.join();
  ::close(listen_fd_);
  ::close(wake_read_);
  ::close(wake_write_);
}

void MetricsServer::serve() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_read_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents) return;  // the destructor's wake-up
    if (!(fds[0].revents & POLLIN)) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    answer(fd);
    ::close(fd);
  }
}

void MetricsServer::answer(int fd) {
  // Read the request head (the request line is all we need), bounded in size and time.
  std::string head;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kRequestTimeoutMs);
  while (head.find("\r\n\r\n") == std::string::npos && head.find("\n\n") == std::string::npos) {
    if (head.size() > kMaxRequest) return;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return;
    pollfd p[2] = {{fd, POLLIN, 0}, {wake_read_, POLLIN, 0}};
    if (::poll(p, 2, static_cast<int>(left.count())) <= 0 || p[1].revents) return;
    char buf[1024];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    head.append(buf, static_cast<std::size_t>(n));
  }
  const std::string line = head.substr(0, head.find_first_of("\r\n"));
  const std::size_t sp1 = line.find(' '), sp2 = line.find(' ', sp1 + 1);
  const std::string method = line.substr(0, sp1);
  const std::string target = sp1 == std::string::npos ? "" : line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string path = target.substr(0, target.find('?'));
  if (method != "GET") {
    send_all(fd, response("405 Method Not Allowed", "text/plain", "only GET\n"));
  } else if (path != "/metrics") {
    send_all(fd, response("404 Not Found", "text/plain", "try /metrics\n"));
  } else {
    send_all(fd, response("200 OK", "text/plain; version=0.0.4; charset=utf-8", render_()));
  }
}

void add_metrics_listen_option(CLI::App* sub, std::string& address) {
  sub->add_option(kFlag, address,
                  "serve GET /metrics (Prometheus text) on this loopback HOST:PORT while the command runs, "
                  "e.g. 127.0.0.1:9464");
}

std::unique_ptr<MetricsServer> listen_metrics(const std::string& address, const Client& client) {
  if (address.empty()) return nullptr;
  return MetricsServer::start(address, [&client] { return client.prometheus(); });
}

}  // namespace s3db::cli
