#include "support/loopback_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace s3db::testing {

LoopbackServer::LoopbackServer() {
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener_, 64) != 0 || ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return;
  }
  port_ = ntohs(addr.sin_port);
}

LoopbackServer::~LoopbackServer() {
  stop();
  if (listener_ >= 0) ::close(listener_);
}

void LoopbackServer::start() {
  if (port_ != 0) acceptor_ = std::thread([this] { accept_loop(); });
}

void LoopbackServer::stop() {
  stop_ = true;
  if (acceptor_.joinable()) acceptor_.join();
  {
    std::lock_guard lock(mu_);
    for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : handlers_) {
    if (t.joinable()) t.join();
  }
  for (int fd : fds_) ::close(fd);
  fds_.clear();
  handlers_.clear();
}

std::string LoopbackServer::url(std::string_view secret, std::string_view params) const {
  std::string u = "http://AKID:";
  u.append(secret).append("@127.0.0.1:").append(std::to_string(port_)).append("/bucket?").append(params);
  return u;
}

void LoopbackServer::accept_loop() {
  while (!stop_) {
    struct pollfd p{listener_, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    ++connections_;
    std::lock_guard lock(mu_);
    fds_.push_back(fd);
    handlers_.emplace_back([this, fd] { serve(fd); });
  }
}

bool LoopbackServer::send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool LoopbackServer::read_request_head(int fd) {
  std::string got;
  char buf[4096];
  while (got.find("\r\n\r\n") == std::string::npos) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return false;
    got.append(buf, static_cast<std::size_t>(n));
  }
  return true;
}

void LoopbackServer::wait_for_hangup(int fd) {
  char buf[4096];
  while (::recv(fd, buf, sizeof buf, 0) > 0) {
  }
}

bool LoopbackServer::hung_up_within(int fd, std::chrono::milliseconds bound) const {
  const auto until = std::chrono::steady_clock::now() + bound;
  while (!stop_ && std::chrono::steady_clock::now() < until) {
    struct pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 20) > 0) {
      char c;
      if (::recv(fd, &c, 1, MSG_PEEK) <= 0) return true;
    }
  }
  return stop_;
}

}  // namespace s3db::testing
