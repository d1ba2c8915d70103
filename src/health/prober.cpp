#include "health/prober.h"

#include <future>

#include "common/log.h"
#include "health/probes.h"

namespace cpp::health {

ProbeFunctions ProbeFunctions::real() { return {icmp_probe, http_probe}; }

Prober::Prober(TargetSource targets, ProberOptions opts, ProbeFunctions probes)
    : targets_(std::move(targets)), opts_(std::move(opts)), probes_(std::move(probes)) {
  report_.local_node = opts_.local_node;
  report_.interval_ms = opts_.interval.count();
}

Prober::~Prober() { stop(); }

void Prober::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { loop(); });
}

void Prober::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

HealthReport Prober::report() const {
  std::lock_guard lock(mu_);
  return report_;
}

bool Prober::probe_now(std::chrono::milliseconds wait) {
  std::unique_lock lock(mu_);
  if (!thread_.joinable() || stopping_) return false;
  uint64_t mine = ++requested_;
  cv_.notify_all();
  return cv_.wait_for(lock, wait, [&] { return served_ >= mine || stopping_; }) && served_ >= mine;
}

HealthReport Prober::run_round() const {
  std::vector<NodeTarget> targets;
  try {
    targets = targets_();
  } catch (const std::exception& e) {
    spdlog::warn("health: listing probe targets: {}", e.what());
  }
  struct Pending {
    std::future<ProbeResult> icmp, http;
  };
  // Every probe of the round runs at once, so an unreachable node costs one
  // timeout, not one per address.
  std::vector<std::vector<Pending>> host(targets.size()), endpoint(targets.size());
  auto launch = [&](const IpAddr& a) {
    return Pending{std::async(std::launch::async, probes_.icmp, a, opts_.timeout),
                   std::async(std::launch::async, probes_.http, a, opts_.http_port, opts_.timeout)};
  };
  for (size_t i = 0; i < targets.size(); ++i) {
    for (const auto& a : targets[i].host) host[i].push_back(launch(a));
    for (const auto& a : targets[i].endpoint) endpoint[i].push_back(launch(a));
  }
  HealthReport r;
  r.local_node = opts_.local_node;
  r.interval_ms = opts_.interval.count();
  for (size_t i = 0; i < targets.size(); ++i) {
    NodeHealth n{targets[i].name, targets[i].local, {}, {}};
    for (size_t k = 0; k < targets[i].host.size(); ++k)
      n.host.push_back({targets[i].host[k], host[i][k].icmp.get(), host[i][k].http.get()});
    for (size_t k = 0; k < targets[i].endpoint.size(); ++k)
      n.endpoint.push_back({targets[i].endpoint[k], endpoint[i][k].icmp.get(), endpoint[i][k].http.get()});
    r.nodes.push_back(std::move(n));
  }
  r.probe_time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  return r;
}

void Prober::loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    uint64_t covers = requested_;
    lock.unlock();
    HealthReport r = run_round();
    lock.lock();
    report_ = std::move(r);
    served_ = covers;
    cv_.notify_all();
    cv_.wait_for(lock, opts_.interval, [&] { return stopping_ || requested_ > served_; });
  }
}

}  // namespace cpp::health
