#include "k8s/client/token_bucket.h"

#include <algorithm>
#include <thread>

namespace cpp::k8s {

TokenBucket::TokenBucket(double qps, int burst) : qps_(qps), burst_(std::max(1, burst)), tokens_(burst_) {}

TokenBucket::Clock::duration TokenBucket::reserve(Clock::time_point now) {
  if (qps_ <= 0) return Clock::duration::zero();
  std::lock_guard l(mu_);
  if (started_) {
    double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(burst_, tokens_ + std::max(0.0, elapsed) * qps_);
  }
  started_ = true;
  last_ = now;
  tokens_ -= 1;
  if (tokens_ >= 0) return Clock::duration::zero();
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(-tokens_ / qps_));
}

void TokenBucket::wait() {
  auto d = reserve(Clock::now());
  if (d > Clock::duration::zero()) std::this_thread::sleep_for(d);
}

}  // namespace cpp::k8s
