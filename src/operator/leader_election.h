#pragma once
// Leader election over etcd: the leader holds `key` (value: its holder id)
// under a lease it keeps alive. Others watch the key and campaign again when
// it disappears: on resign (lease revoked) at once, on a dead leader when its
// lease expires (ttl).
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "kvstore/etcd_client.h"
#include "operator/elector.h"

namespace cpp::op {

class LeaderElection : public Elector {
 public:
  LeaderElection(kvstore::EtcdClient& etcd, std::string key, std::string holder, int64_t ttl_seconds);
  ~LeaderElection() override;

  // Blocks until this process leads (true) or `stop` is set (false).
  bool campaign(const std::atomic<bool>& stop) override;
  // true while the lease behind the leadership is alive.
  bool leading() const override;
  // Gives leadership up at once (revokes the lease, which deletes the key).
  void resign() override;
  // The holder id stored in the key right now ("" when none or unreachable).
  std::string current_leader() override;

 private:
  bool try_acquire();
  void wait_for_vacancy(int64_t revision, const std::atomic<bool>& stop);

  kvstore::EtcdClient& etcd_;
  std::string key_, holder_;
  int64_t ttl_;
  mutable std::mutex mu_;
  std::unique_ptr<kvstore::LeaseKeeper> lease_;
  std::atomic<bool> lost_{false};
};

}  // namespace cpp::op
