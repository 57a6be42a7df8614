// tools/s3db/stop_signals.h — SIGINT and SIGTERM as a polite stop request for a long command
// (import): the command stops reading, finishes what is in flight, reports, and exits
// 128 + signal.
//
// Contract
// - While a StopSignals lives, the first SIGINT or SIGTERM only sets a flag (requested(),
//   signal()) and makes fd() readable, so that a reader blocked in poll() wakes up
//   (InputFile::read). A second one ends the process at once with the signal's default action:
//   a user who presses Ctrl-C twice is not kept waiting for the drain.
// - The handler is installed with SA_RESTART and does only async-signal-safe work (an atomic
//   store, write(2) to a self-pipe, signal(2) + raise(3) for the second one). A signal the
//   process ignored at start (a background job of a non-interactive shell) stays ignored.
// - Before it is constructed and after it is destroyed (previous handlers restored), Ctrl-C
//   behaves as usual: construct it just before the work that must be drained, not earlier, so
//   that a hanging open can still be interrupted.
// - One instance per process at a time (the handler's state is process-wide). requested() and
//   signal() may be called from any thread.
#pragma once

#include <signal.h>

namespace s3db::cli {

class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  bool requested() const noexcept { return signal() != 0; }
  int signal() const noexcept;
  int fd() const noexcept { return read_fd_; }

 private:
  int read_fd_ = -1;
  struct sigaction old_int_ {}, old_term_ {};
  bool installed_int_ = false, installed_term_ = false;
};

// "SIGINT", "SIGTERM", else "a signal".
const char* signal_name(int signo);

}  // namespace s3db::cli
