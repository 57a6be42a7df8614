// bench/harness/thread_burst.h — "one thread per operation", the bench's model of uncontrolled
// parallelism (what Promise.all over N inserts is in s3db.js, minus the event loop).
//
// Contract: spawn(fn) starts a detached-from-the-pool OS thread with a bounded stack (default
// 256 KiB, so 10,000 threads reserve ~2.5 GB of address space, not 80 GB) running fn; it returns
// false — and fn never runs — when the system refuses another thread (EAGAIN), which callers count
// as an error of that operation. join_all() waits for every started thread. Not thread-safe: one
// owner thread calls spawn/join_all. The destructor joins.
#pragma once

#include <pthread.h>

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace s3db::bench {

class ThreadBurst {
 public:
  explicit ThreadBurst(std::size_t expected, std::size_t stack_bytes = 256 * 1024);
  ~ThreadBurst();
  ThreadBurst(const ThreadBurst&) = delete;
  ThreadBurst& operator=(const ThreadBurst&) = delete;

  bool spawn(std::function<void()> fn);
  void join_all();
  const std::string& last_error() const { return last_error_; }

 private:
  pthread_attr_t attr_;
  std::vector<pthread_t> threads_;
  std::string last_error_;
};

}  // namespace s3db::bench
