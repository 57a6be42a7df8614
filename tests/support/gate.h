// tests/support/gate.h — a one-shot gate for tests: threads wait() at it until the test open()s it.
//
// Contract
// - wait() returns true once open() was called, false after `patience` (30 s of real time by
//   default) — a regression fails its test instead of hanging it. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace s3db::testing {

class Gate {
 public:
  explicit Gate(std::chrono::seconds patience = std::chrono::seconds(30)) : patience_(patience) {}
  void open() {
    std::lock_guard<std::mutex> g(mu_);
    open_ = true;
    cv_.notify_all();
  }
  bool wait() {
    std::unique_lock<std::mutex> lk(mu_);
    return cv_.wait_for(lk, patience_, [&] { return open_; });
  }

 private:
  const std::chrono::seconds patience_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

}  // namespace s3db::testing
