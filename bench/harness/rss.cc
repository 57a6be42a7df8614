#include "rss.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

namespace s3db::bench {
namespace {

const double kPageMb = static_cast<double>(::sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);

// statm: "size resident shared text lib data dt" in pages; pread keeps one open descriptor so a
// sample costs one syscall and no allocation.
double read_statm(int fd) {
  char buf[128];
  ssize_t n = fd >= 0 ? ::pread(fd, buf, sizeof(buf) - 1, 0) : -1;
  if (n <= 0) return 0;
  buf[n] = '\0';
  char* p = buf;
  std::strtoull(p, &p, 10);                     // size
  unsigned long long resident = std::strtoull(p, &p, 10);
  return static_cast<double>(resident) * kPageMb;
}

}  // namespace

double process_cpu_ms() {
  rusage u{};
  if (::getrusage(RUSAGE_SELF, &u) != 0) return 0;
  auto ms = [](const timeval& t) { return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_usec) / 1e3; };
  return ms(u.ru_utime) + ms(u.ru_stime);
}

double current_rss_mb() {
  int fd = ::open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  double mb = read_statm(fd);
  if (fd >= 0) ::close(fd);
  return mb;
}

double vm_hwm_mb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtod(line.c_str() + 6, nullptr) / 1024.0;  // kB
  }
  return 0;
}

bool reset_peak_rss() {
  int fd = ::open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::write(fd, "5", 1) == 1;  // "5": reset the peak resident set size (Linux >= 4.0)
  ::close(fd);
  return ok;
}

RssSampler::RssSampler(std::chrono::microseconds period) : period_(period) {
  statm_fd_ = ::open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  samples_.reserve(1 << 16);
}

RssSampler::~RssSampler() {
  stop();
  if (statm_fd_ >= 0) ::close(statm_fd_);
}

void RssSampler::start() {
  stop();
  samples_.clear();
  hwm_reset_ = reset_peak_rss();
  t0_ = std::chrono::steady_clock::now();
  baseline_mb_ = read_statm(statm_fd_);
  peak_mb_ = baseline_mb_;
  samples_.push_back({0.0, baseline_mb_});
  running_.store(true, std::memory_order_release);
  thread_ = std::thread([this] { loop(); });
}

void RssSampler::loop() {
  auto next = t0_;
  while (running_.load(std::memory_order_acquire)) {
    next += period_;
    std::this_thread::sleep_until(next);
    const auto now = std::chrono::steady_clock::now();
    const double mb = read_statm(statm_fd_);
    samples_.push_back({std::chrono::duration<double, std::milli>(now - t0_).count(), mb});
    peak_mb_ = std::max(peak_mb_, mb);
    if (now > next + 10 * period_) next = now;  // after a long stall, do not burst to catch up
  }
}

void RssSampler::stop() {
  if (!thread_.joinable()) return;
  running_.store(false, std::memory_order_release);
  thread_.join();
  const double last = read_statm(statm_fd_);
  samples_.push_back(
      {std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0_).count(), last});
  peak_mb_ = std::max(peak_mb_, last);
  if (hwm_reset_) peak_mb_ = std::max(peak_mb_, vm_hwm_mb());
}

}  // namespace s3db::bench
