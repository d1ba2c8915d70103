#pragma once
// LB IPAM, operator side (leader only): follows CiliumLoadBalancerIPPool
// and Service objects, runs the pure allocator (service/lbipam.h) over all
// of them, and writes what changed: status.loadBalancer.ingress plus the
// cilium.io/IPAMRequestSatisfied condition on LoadBalancer services, and
// the conflict / IP count conditions on pools. The services' own status is
// the allocation record, so a new leader or a restarted operator keeps every
// assignment. A pool that does not parse gets a PoolConflict condition
// (reason invalid_spec) and takes no part; the others keep working. Writes
// happen only when an object's content would change: the watches see the
// controller's own writes, and the next pass finds nothing to do. A
// service counts as changed (the allocator lets unchanged sharers keep a
// contested IP) when its generation is past our condition's
// observedGeneration or its LB IPAM annotations differ from the last pass.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "store/store.h"

namespace cpp::op {

struct LbIpamStats {
  size_t pools = 0, invalid_pools = 0, services = 0;
  size_t services_written = 0, pools_written = 0;
  size_t conflicting_pools = 0;     // overlapping or invalid
  size_t services_unsatisfied = 0;  // did not get every IP they asked for
  struct PoolIps {
    double available = 0, used = 0;  // double: IPv6 pools exceed 64 bits
  };
  std::map<std::string, PoolIps> pool_ips;  // by pool name
};

class LbIpamController {
 public:
  LbIpamController(store::ResourceStore& store, bool ipv4_enabled, bool ipv6_enabled,
                   std::chrono::milliseconds resync = std::chrono::seconds(30));
  ~LbIpamController();

  void start();  // one pass now, then a pass after every pool/service change
  void stop();
  // Told the stats of every pass the worker completes (metrics); set before start().
  void set_pass_observer(std::function<void(const LbIpamStats&)> observer) { observer_ = std::move(observer); }

  // One full pass over the store (what the worker runs); for tests.
  LbIpamStats reconcile();

 private:
  void trigger();
  void worker();

  store::ResourceStore& store_;
  bool ipv4_, ipv6_;
  std::chrono::milliseconds resync_;
  std::function<void(const LbIpamStats&)> observer_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool dirty_ = false, stopping_ = false;
  std::unique_ptr<store::WatchHandle> pool_watch_, svc_watch_;
  // Per service key, its LB IPAM annotations at the previous pass: a change
  // there does not move metadata.generation, yet decides who keeps a shared IP.
  std::map<std::string, std::string> seen_annotations_;
  std::thread thread_;
};

}  // namespace cpp::op
