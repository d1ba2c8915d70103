#pragma once
// Probes every node of the cluster in rounds: each round asks for the current
// targets, runs an ICMP and an HTTP probe against every address of every node
// (all concurrently), and publishes the round's report at once.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "health/report.h"
#include "health/targets.h"

namespace cpp::health {

struct ProbeFunctions {
  std::function<ProbeResult(const IpAddr&, std::chrono::milliseconds)> icmp;
  std::function<ProbeResult(const IpAddr&, int port, std::chrono::milliseconds)> http;
  static ProbeFunctions real();  // icmp_probe / http_probe
};

struct ProberOptions {
  std::string local_node;
  std::chrono::milliseconds interval{60000};  // upstream's default
  std::chrono::milliseconds timeout{2000};    // per probe
  int http_port = 4240;
};

class Prober {
 public:
  using TargetSource = std::function<std::vector<NodeTarget>()>;
  Prober(TargetSource targets, ProberOptions opts, ProbeFunctions probes = ProbeFunctions::real());
  ~Prober();
  Prober(const Prober&) = delete;
  Prober& operator=(const Prober&) = delete;

  // The first round starts at once.
  void start();
  void stop();
  HealthReport report() const;
  // Asks for a round that starts after this call and waits for it to finish.
  // False when `wait` passed first (or the prober stopped).
  bool probe_now(std::chrono::milliseconds wait);

  // One round, synchronously (what the background thread runs).
  HealthReport run_round() const;

 private:
  void loop();
  TargetSource targets_;
  ProberOptions opts_;
  ProbeFunctions probes_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  HealthReport report_;
  uint64_t requested_ = 0;  // probe_now() calls so far
  uint64_t served_ = 0;     // requests covered by a finished round
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace cpp::health
