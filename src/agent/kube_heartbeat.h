#pragma once
// Whether the Kubernetes API answers (upstream's k8s-heartbeat-timeout): a
// thread asks GET /version every few seconds and remembers when it last got
// an answer. The agent reports not-ready on /healthz once the API has been
// silent for longer than the timeout; the datapath and the store's caches
// stay as they are meanwhile (reflectors never delete on a failed list).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "k8s/client/kube_client.h"

namespace cpp::agent {

class KubeHeartbeat {
 public:
  KubeHeartbeat(std::shared_ptr<k8s::KubeClient> client, std::chrono::milliseconds timeout);
  ~KubeHeartbeat();
  KubeHeartbeat(const KubeHeartbeat&) = delete;
  KubeHeartbeat& operator=(const KubeHeartbeat&) = delete;

  // One GET /version now; true when the API answered. Records the answer.
  bool probe();
  // Keeps probing every timeout/3 (at most 5 s) until the destructor.
  void start();
  // "" while the API answered within the timeout, else why not.
  std::optional<std::string> unreachable_reason() const;
  bool answered_last() const { return last_ok_.load(); }

 private:
  std::shared_ptr<k8s::KubeClient> client_;
  std::chrono::milliseconds timeout_;
  std::atomic<bool> last_ok_{false};
  std::atomic<int64_t> last_answer_ms_;  // steady clock
  mutable std::mutex mu_;
  std::string last_error_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace cpp::agent
