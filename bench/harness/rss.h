// bench/harness/rss.h — resident-set-size measurement for the bench.
//
// Contract: RssSampler reads /proc/self/statm every `period` on its own thread between start()
// and stop(), keeping (time, RSS) samples for plots and the peak. start() also resets the kernel's
// peak counter (VmHWM, via /proc/self/clear_refs "5") when allowed, so peak_mb() — the larger of
// the sampled peak and VmHWM read at stop() — is the peak of this window only, catching spikes
// shorter than the period. Linux only; elsewhere every figure is 0. One start/stop at a time;
// samples() may be read only after stop().
#pragma once

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace s3db::bench {

double current_rss_mb();  // /proc/self/statm resident pages
double vm_hwm_mb();       // /proc/self/status VmHWM (peak since start or last reset)
bool reset_peak_rss();    // true when VmHWM was reset
double process_cpu_ms();  // user + system CPU time of the whole process (getrusage)

struct RssSample {
  double t_ms;    // since start()
  double rss_mb;
};

class RssSampler {
 public:
  explicit RssSampler(std::chrono::microseconds period = std::chrono::milliseconds(1));
  ~RssSampler();
  RssSampler(const RssSampler&) = delete;
  RssSampler& operator=(const RssSampler&) = delete;

  void start();
  void stop();
  const std::vector<RssSample>& samples() const { return samples_; }
  double peak_mb() const { return peak_mb_; }
  double baseline_mb() const { return baseline_mb_; }
  bool hwm_reset() const { return hwm_reset_; }

 private:
  void loop();
  std::chrono::microseconds period_;
  std::atomic<bool> running_{false};
  std::thread thread_;
  std::vector<RssSample> samples_;
  std::chrono::steady_clock::time_point t0_;
  double peak_mb_ = 0, baseline_mb_ = 0;
  bool hwm_reset_ = false;
  int statm_fd_ = -1;
};

}  // namespace s3db::bench
