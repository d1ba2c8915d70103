#include "agent/kube_heartbeat.h"

#include <spdlog/spdlog.h>

namespace cpp::agent {

namespace {
int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

// Start-up counts as an answer: the grace period runs from here.
KubeHeartbeat::KubeHeartbeat(std::shared_ptr<k8s::KubeClient> client, std::chrono::milliseconds timeout)
    : client_(std::move(client)), timeout_(timeout), last_answer_ms_(now_ms()) {}

KubeHeartbeat::~KubeHeartbeat() {
  {
    std::lock_guard l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool KubeHeartbeat::probe() {
  try {
    client_->call("GET", "/version");
    last_answer_ms_ = now_ms();
    if (!last_ok_.exchange(true)) spdlog::info("Kubernetes API {} answers", client_->config().server);
    return true;
  } catch (const std::exception& e) {
    std::lock_guard l(mu_);
    last_error_ = e.what();
    if (last_ok_.exchange(false)) spdlog::warn("Kubernetes API {} does not answer: {}", client_->config().server, e.what());
    return false;
  }
}

void KubeHeartbeat::start() {
  auto period = std::min<std::chrono::milliseconds>(timeout_ / 3, std::chrono::seconds(5));
  if (period < std::chrono::milliseconds(100)) period = std::chrono::milliseconds(100);
  thread_ = std::thread([this, period] {
    std::unique_lock l(mu_);
    while (!stopping_) {
      l.unlock();
      probe();
      l.lock();
      cv_.wait_for(l, period, [this] { return stopping_; });
    }
  });
}

std::optional<std::string> KubeHeartbeat::unreachable_reason() const {
  int64_t silent = now_ms() - last_answer_ms_.load();
  if (last_ok_ || silent <= timeout_.count()) return std::nullopt;
  std::lock_guard l(mu_);
  return "Kubernetes API " + client_->config().server + " unreachable for " + std::to_string(silent / 1000) +
         " s: " + last_error_;
}

}  // namespace cpp::agent
