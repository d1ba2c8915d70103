#pragma once
// Leader election over a coordination.k8s.io/v1 Lease in a ResourceStore
// (the Kubernetes API in K8s mode), as client-go's leaderelection does it:
// candidates poll the Lease every `retry` and take it when it is absent,
// vacant or expired (renewTime + leaseDurationSeconds passed); the leader
// renews it every duration/3 and stops leading once it could not renew for
// `renew_deadline` (< duration, so it has stopped before anyone may take
// over). ResourceStore::update gives the optimistic concurrency: of two
// candidates writing the same resourceVersion only one succeeds.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "operator/elector.h"
#include "operator/lease_record.h"
#include "store/store.h"

namespace cpp::op {

struct LeaseTiming {
  std::chrono::seconds duration{15};                  // leaseDurationSeconds
  std::chrono::milliseconds renew_deadline{10000};    // leader gives up after failing this long
  std::chrono::milliseconds retry{2000};              // candidates' poll and the leader's retry period
  std::chrono::milliseconds renew_interval() const { return duration / 3; }

  // Upstream's proportions (15 s / 10 s / 2 s) scaled to a lease of ttl seconds.
  static LeaseTiming from_ttl(int64_t ttl_seconds);
};

class LeaseElection : public Elector {
 public:
  LeaseElection(store::ResourceStore& store, std::string holder, LeaseTiming timing,
                std::string ns = kLeaseNamespace, std::string name = kLeaseName);
  // Stops renewing without resigning: a standby takes over once the lease expires.
  ~LeaseElection() override;

  bool campaign(const std::atomic<bool>& stop) override;
  // true until a renewal has failed for renew_deadline (or another holder was found).
  bool leading() const override;
  // Clears holderIdentity so a standby takes over at its next poll.
  void resign() override;
  // The holder of a live lease; "" when vacant, expired, absent or unreachable.
  std::string current_leader() override;

 private:
  // One attempt to take or renew; true when this process holds the lease
  // now. *first_holder: the Lease had never been held before.
  bool try_hold(bool* first_holder = nullptr);
  // The store's put() may overwrite (DirectoryStore, EtcdStore): a candidate
  // that found no Lease may create an empty one over a Lease just taken. Only
  // a never-held Lease is exposed to that, so its first holder leads only if
  // it still holds it one retry period later.
  bool still_held_after_settling(const std::atomic<bool>& stop);
  void renew_loop();
  void stop_renewer();
  bool sleep_renewer(std::chrono::milliseconds d);  // false when asked to stop

  store::ResourceStore& store_;
  std::string holder_, ns_, name_;
  LeaseTiming timing_;
  std::atomic<bool> leading_{false};
  std::atomic<int64_t> last_renew_ns_{0};  // steady clock of the last renewal's start
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_renew_ = false;
  std::thread renewer_;
};

}  // namespace cpp::op
