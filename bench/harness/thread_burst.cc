#include "thread_burst.h"

#include <cstring>
#include <memory>

namespace s3db::bench {
namespace {
void* trampoline(void* arg) {
  std::unique_ptr<std::function<void()>> fn(static_cast<std::function<void()>*>(arg));
  (*fn)();
  return nullptr;
}
}  // namespace

ThreadBurst::ThreadBurst(std::size_t expected, std::size_t stack_bytes) {
  pthread_attr_init(&attr_);
  pthread_attr_setstacksize(&attr_, stack_bytes);
  threads_.reserve(expected);
}

ThreadBurst::~ThreadBurst() {
  join_all();
  pthread_attr_destroy(&attr_);
}

bool ThreadBurst::spawn(std::function<void()> fn) {
  auto* heap_fn = new std::function<void()>(std::move(fn));
  pthread_t t;
  int rc = pthread_create(&t, &attr_, trampoline, heap_fn);
  if (rc != 0) {
    delete heap_fn;
    last_error_ = std::string("cannot start a thread: ") + std::strerror(rc);
    return false;
  }
  threads_.push_back(t);
  return true;
}

void ThreadBurst::join_all() {
  for (pthread_t t : threads_) pthread_join(t, nullptr);
  threads_.clear();
}

}  // namespace s3db::bench
