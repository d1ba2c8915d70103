#pragma once
// What the operator needs from leader election, whichever store backs it:
// an etcd key under a lease (LeaderElection) or a coordination.k8s.io Lease
// object (LeaseElection).
#include <atomic>
#include <string>

namespace cpp::op {

class Elector {
 public:
  virtual ~Elector() = default;
  // Blocks until this process leads (true) or `stop` is set (false).
  virtual bool campaign(const std::atomic<bool>& stop) = 0;
  // true while the leadership is known to be held.
  virtual bool leading() const = 0;
  // Gives leadership up at once so a standby takes over without waiting.
  virtual void resign() = 0;
  // Who leads right now ("" when nobody or unknown).
  virtual std::string current_leader() = 0;
};

}  // namespace cpp::op
