#pragma once
// Client-side rate limit of API requests (`k8s-client-qps`, `k8s-client-burst`),
// a token bucket as client-go's: `burst` requests at once, then `qps` per
// second. The clock is a parameter so tests need no sleeping.
#include <chrono>
#include <mutex>

namespace cpp::k8s {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;
  // qps <= 0: unlimited.
  TokenBucket(double qps, int burst);
  // How long the caller must wait before its request may go (0: now); the
  // token is taken either way, so callers queue in order.
  Clock::duration reserve(Clock::time_point now);
  // reserve() and sleep.
  void wait();

 private:
  std::mutex mu_;
  double qps_, burst_, tokens_;
  Clock::time_point last_{};
  bool started_ = false;
};

}  // namespace cpp::k8s
