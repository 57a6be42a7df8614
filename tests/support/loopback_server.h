// A TCP server on 127.0.0.1:<ephemeral> for tests that need a store that misbehaves on purpose:
// one thread per connection runs the subclass's serve(fd). Destruction (call stop() first in the
// subclass's destructor) shuts every connection down — which also ends a transfer a test left
// hanging — and joins the threads.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace s3db::testing {

class LoopbackServer {
 public:
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;
  virtual ~LoopbackServer();

  int port() const { return port_; }
  int connections() const { return connections_.load(); }
  // "http://AKID:<secret>@127.0.0.1:<port>/bucket?<params>".
  std::string url(std::string_view secret, std::string_view params) const;

 protected:
  LoopbackServer();
  // Starts accepting; call at the end of the subclass's constructor (serve() is virtual).
  void start();
  // Stops accepting, shuts every connection down and joins the threads; the subclass's
  // destructor calls it (serve() must not run on a half-destroyed object).
  void stop();
  bool stopping() const { return stop_.load(); }

  // One connection, on its own thread; the socket is closed after the server stops.
  virtual void serve(int fd) = 0;

  // False once the client is gone (or the server stops).
  static bool send_all(int fd, std::string_view data);
  // Reads until a blank line ends a request head; false when the client hung up first.
  static bool read_request_head(int fd);
  // Reads (and drops) until the client hangs up.
  static void wait_for_hangup(int fd);
  // True when the client hung up within `bound` (or the server stops); nothing is consumed.
  bool hung_up_within(int fd, std::chrono::milliseconds bound) const;

 private:
  void accept_loop();

  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> fds_;
  std::vector<std::thread> handlers_;
};

}  // namespace s3db::testing
