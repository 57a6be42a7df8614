#include "stop_signals.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

namespace s3db::cli {
namespace {

std::atomic<int> g_signal{0};
std::atomic<int> g_write_fd{-1};
static_assert(std::atomic<int>::is_always_lock_free, "used from a signal handler");

extern "C" void on_stop_signal(int signo) {
  int none = 0;
  if (g_signal.compare_exchange_strong(none, signo)) {
    const int saved = errno;
    const char byte = 1;
    [[maybe_unused]] ssize_t n = ::write(g_write_fd.load(), &byte, 1);
    errno = saved;
    return;
  }
  ::signal(signo, SIG_DFL);  // the second one: the default action, now
  ::raise(signo);
}

bool install(int signo, struct sigaction& old) {
  if (::sigaction(signo, nullptr, &old) != 0 || old.sa_handler == SIG_IGN) return false;
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  return ::sigaction(signo, &sa, nullptr) == 0;
}

}  // namespace

StopSignals::StopSignals() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return;  // no pipe: Ctrl-C keeps its usual meaning
  read_fd_ = fds[0];
  g_signal.store(0);
  g_write_fd.store(fds[1]);
  installed_int_ = install(SIGINT, old_int_);
  installed_term_ = install(SIGTERM, old_term_);
}

StopSignals::~StopSignals() {
  if (installed_int_) ::sigaction(SIGINT, &old_int_, nullptr);
  if (installed_term_) ::sigaction(SIGTERM, &old_term_, nullptr);
  if (read_fd_ < 0) return;
  ::close(g_write_fd.exchange(-1));
  ::close(read_fd_);
}

int StopSignals::signal() const noexcept { return g_signal.load(); }

const char* signal_name(int signo) {
  switch (signo) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    default: return "a signal";
  }
}

}  // namespace s3db::cli
