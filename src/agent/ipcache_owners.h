#pragma once
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "common/ip.h"
#include "datapath/ipcache_map.h"

namespace cpp::agent {

// Who put an address or prefix into the ipcache. When several claim the
// same key, the highest source gives the identity:
//
//   Endpoint        a pod of this node (policy subsystem)
//   Host            this node's own addresses (policy subsystem)
//   RemoteNode      another node's addresses: remote-node (overlay)
//   RemoteEndpoint  a pod of another node: its identity (overlay)
//   Cidr            a CIDR selector of a policy: its CIDR identity (policy)
//   TunnelRoute     another node's PodCIDR: world (overlay)
//
// Local beats remote: an address that is here is delivered here, whatever
// another node publishes (for a while a migrating VM's IP exists on two
// nodes). An exact CIDR rule never relabels a pod or a node, and must not
// take their entry with it when it goes away. A CIDR rule on a remote
// PodCIDR does relabel it: world is only the fallback of a tunnel route.
//
// The tunnel endpoint comes from the highest claim that carries one, unless
// a local claim wins (then the key is local: no tunnel). So a CIDR identity
// on a remote PodCIDR still travels through the tunnel.
enum class IpcacheSource { TunnelRoute = 0, Cidr = 1, RemoteEndpoint = 2, RemoteNode = 3, Host = 4, Endpoint = 5 };

struct IpcacheClaim {
  uint32_t identity = 0;
  std::optional<IpAddr> tunnel;  // the IPv4 node address hosting the key
  bool operator==(const IpcacheClaim&) const = default;
};

// What the map holds for a key.
struct IpcacheEntry {
  uint32_t identity = 0;
  std::optional<IpAddr> tunnel;
  bool operator==(const IpcacheEntry&) const = default;
  cpp_ipcache_value value() const;  // throws std::invalid_argument for an IPv6 tunnel
};

// The desired ipcache: per key, every claim. Pure bookkeeping: set()/remove()
// say what the map must now hold for the key.
class IpcacheOwners {
 public:
  // The entry the key must now map to, or nullopt if it did not change.
  std::optional<IpcacheEntry> set(const IpPrefix& key, IpcacheSource src, const IpcacheClaim& claim);
  std::optional<IpcacheEntry> set(const IpPrefix& key, IpcacheSource src, uint32_t identity) {
    return set(key, src, IpcacheClaim{identity, std::nullopt});
  }
  struct Removal {
    bool changed = false;
    std::optional<IpcacheEntry> entry;  // new entry; nullopt = delete the key
  };
  Removal remove(const IpPrefix& key, IpcacheSource src);
  std::optional<IpcacheEntry> current(const IpPrefix& key) const;
  std::optional<uint32_t> winner(const IpPrefix& key) const;

 private:
  std::map<IpPrefix, std::map<IpcacheSource, IpcacheClaim>> claims_;
};

// The one writer of cpp_ipcache (brief decision 4: no subsystem writes
// another's map): the policy and overlay subsystems claim and release keys
// here, under one lock, and only the resolved entry reaches the map.
class IpcacheWriter {
 public:
  explicit IpcacheWriter(const std::string& pin_dir) : map_(pin_dir) {}
  void claim(const IpPrefix& key, IpcacheSource src, const IpcacheClaim& claim);
  void release(const IpPrefix& key, IpcacheSource src);
  std::optional<IpcacheEntry> current(const IpPrefix& key) const;

 private:
  void write(const IpPrefix& key, const std::optional<IpcacheEntry>& e);

  mutable std::mutex mu_;
  IpcacheOwners owners_;
  datapath::IpcacheMap map_;
};

}  // namespace cpp::agent
