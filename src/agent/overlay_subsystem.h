#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/ipcache_owners.h"
#include "agent/overlay_state.h"
#include "netlink/rtnl.h"
#include "store/store.h"

namespace cpp::agent {

// The control-plane side of the VXLAN overlay (tunnel routing mode):
//   reads   CiliumNode and CiliumEndpoint objects from the store;
//   writes  ipcache claims for other nodes' PodCIDRs, addresses and
//           endpoints (through IpcacheWriter, shared with the policy
//           subsystem) and a route via cilium_host for each remote PodCIDR.
// compute_overlay_state() gives the desired state from the objects; this
// class diffs it against what it applied and changes only the difference.
// A failed route change is logged and retried on the next change.
class OverlaySubsystem {
 public:
  struct Options {
    OverlaySelf self;
    std::string host_dev = "cilium_host";
    std::optional<IpAddr> router4, router6;  // route sources; a family without one gets no routes
    int mtu = 0;                             // route MTU (the pod MTU)
  };
  OverlaySubsystem(store::ResourceStore& store, IpcacheWriter& ipcache, Netlink& nl, Options opts);
  ~OverlaySubsystem();

  // Removes routes via cilium_host left by an earlier run that no object
  // asks for any more, applies the objects in the store and follows them.
  void start();
  void stop();

  // What is applied now (tests, status).
  OverlayState applied() const;

 private:
  void on_event(const std::string& kind, store::EventType t, const nlohmann::json& obj);
  void reconcile_locked();
  std::optional<Route> route_for(const IpPrefix& cidr) const;
  void remove_stale_routes();

  store::ResourceStore& store_;
  IpcacheWriter& ipcache_;
  Netlink& nl_;
  Options opts_;
  mutable std::mutex mu_;
  std::map<std::string, nlohmann::json> nodes_, endpoints_;  // key: namespace/name
  OverlayState applied_;
  std::vector<std::unique_ptr<store::WatchHandle>> watches_;
};

}  // namespace cpp::agent
