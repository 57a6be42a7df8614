#include "progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace s3db::cli {

bool stderr_is_tty() { return ::isatty(STDERR_FILENO) == 1; }

ProgressBar::ProgressBar(std::string label, std::uint64_t total_bytes, bool enabled)
    : label_(std::move(label)), total_bytes_(total_bytes), enabled_(enabled),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

ProgressBar::~ProgressBar() { finish(); }

namespace {
std::string clock_text(double seconds) {
  if (seconds < 0 || seconds > 359999) return "--:--";
  auto s = static_cast<long>(seconds + 0.5);
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
  return fmt::format("{:02}:{:02}", s / 60, s % 60);
}
}  // namespace

std::string ProgressBar::render(const std::string& label, std::uint64_t records,
                                std::uint64_t errors, std::uint64_t bytes_done,
                                std::uint64_t total_bytes, double elapsed_s) {
  const double rate = elapsed_s > 0 ? static_cast<double>(records) / elapsed_s : 0.0;
  std::string out = fmt::format("{} ", label);
  if (total_bytes > 0) {
    const double frac = std::min(1.0, static_cast<double>(bytes_done) / static_cast<double>(total_bytes));
    constexpr int kWidth = 24;
    const int filled = static_cast<int>(frac * kWidth);
    out += fmt::format("[{}{}] ", std::string(filled, '#'), std::string(kWidth - filled, '.'));
    out += fmt::format("{:5.1f}% ", frac * 100);
    const double byte_rate = elapsed_s > 0 ? static_cast<double>(bytes_done) / elapsed_s : 0.0;
    const double eta = byte_rate > 0 ? static_cast<double>(total_bytes - std::min(bytes_done, total_bytes)) / byte_rate : -1;
    out += fmt::format("{} records  {:.0f}/s  ETA {}  errors {}", records, rate, clock_text(eta), errors);
  } else {
    out += fmt::format("{} records  {:.0f}/s  elapsed {}  errors {}", records, rate,
                       clock_text(elapsed_s), errors);
  }
  return out;
}

void ProgressBar::update(std::uint64_t records, std::uint64_t errors, std::uint64_t bytes_done) {
  records_ = records;
  errors_ = errors;
  bytes_ = bytes_done;
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  draw();
}

void ProgressBar::draw() {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  // "\r" + clear-to-end-of-line keeps the bar on one line while it shrinks or grows.
  std::string line = fmt::format("\r{}\x1b[K", render(label_, records_, errors_, bytes_, total_bytes_, elapsed));
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::clear() {
  if (!enabled_ || !drawn_) return;
  std::fputs("\r\x1b[K", stderr);
  std::fflush(stderr);
  drawn_ = false;  // the next update() draws at once
}

void ProgressBar::finish() {
  if (!enabled_) return;
  draw();
  std::fputc('\n', stderr);
  enabled_ = false;
}

}  // namespace s3db::cli
