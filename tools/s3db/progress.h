// tools/s3db/progress.h — a one-line progress bar on stderr for import/export.
//
// Contract: draws only when enabled (the caller passes stderr_is_tty() && !json), at most every
// 100 ms, with count, rate, ETA (when a total is known) and errors; finish() ends the line;
// clear() wipes the bar so that a message can be printed (the next update() redraws it). When
// disabled every call is a cheap no-op, so pipes and test output never see a '\r'.
// Not thread-safe: call from one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace s3db::cli {

bool stderr_is_tty();

class ProgressBar {
 public:
  // `total_bytes` = 0 when unknown (stdin): then no percentage and no ETA.
  ProgressBar(std::string label, std::uint64_t total_bytes, bool enabled);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void update(std::uint64_t records, std::uint64_t errors, std::uint64_t bytes_done);
  void clear();
  void finish();

  // The text of one frame (exposed for the drawing code and for reasoning in tests).
  static std::string render(const std::string& label, std::uint64_t records, std::uint64_t errors,
                            std::uint64_t bytes_done, std::uint64_t total_bytes, double elapsed_s);

 private:
  void draw();
  std::string label_;
  std::uint64_t total_bytes_;
  bool enabled_;
  bool drawn_ = false;
  std::uint64_t records_ = 0, errors_ = 0, bytes_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace s3db::cli
