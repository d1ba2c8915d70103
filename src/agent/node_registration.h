#pragma once
// The agent's CiliumNode (cluster-pool IPAM, brief issue 4): on start the
// agent upserts its CiliumNode with its InternalIPs, waits until the
// operator filled spec.ipam.podCIDRs, then publishes its CiliumInternalIP
// (router IPs) and health addresses. A background thread re-asserts the
// agent's fields whenever the stored object loses them (a concurrent writer,
// a deleted object) and retries while the store is unreachable.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/ip.h"
#include "config/agent_config.h"
#include "ipam/cilium_node.h"
#include "store/store.h"

namespace cpp::agent {

class NodeRegistration {
 public:
  NodeRegistration(store::ResourceStore& store, std::string node_name, std::optional<IpAddr> internal_ipv4,
                   std::optional<IpAddr> internal_ipv6);
  ~NodeRegistration();

  // Blocks until the CiliumNode carries a PodCIDR of every wanted family and
  // returns them (IPv4 first); registers the node first and keeps retrying
  // while the store fails, logging every `log_every`. nullopt once `stop` is set.
  std::optional<std::vector<IpPrefix>> wait_for_pod_cidrs(bool want_ipv4, bool want_ipv6,
                                                           const std::atomic<bool>& stop,
                                                           std::chrono::milliseconds log_every = std::chrono::seconds(5));

  // The PodCIDRs the node uses; written when the stored object has none (a
  // restarted agent that came up from its IPAM state, a re-created object),
  // or always when `configured` (ipv4-range/ipv6-range).
  void set_pod_cidrs(std::vector<IpPrefix> cidrs, bool configured = false);
  void set_router_ips(std::optional<IpAddr> v4, std::optional<IpAddr> v6);
  // spec.health (called by the health subsystem once lxc_health has addresses).
  void set_health_addresses(std::optional<IpAddr> v4, std::optional<IpAddr> v6);

  // K8s mode: the CiliumNode names the Node as its owner (as upstream), so
  // the API's garbage collector deletes it with the Node.
  void set_owned_by_node() { owned_by_node_ = true; }

  // Starts following the stored object (and writes pending changes).
  void start();
  void stop();

  // One merge-and-write; throws when the store fails.
  void sync();

 private:
  void loop();
  void kick();

  store::ResourceStore& store_;
  std::mutex mu_;
  std::condition_variable cv_;
  ipam::AgentNodeFields fields_;
  bool dirty_ = true;
  bool stopping_ = false;
  std::atomic<bool> owned_by_node_{false};
  std::unique_ptr<store::WatchHandle> watch_;
  std::thread thread_;
};

struct PodCidrs {
  std::optional<IpPrefix> ipv4, ipv6;
};

// The node's PodCIDRs, handed to `registration` for its CiliumNode: the
// configured ipv4-range/ipv6-range; with cluster-pool IPAM
// (cfg.pod_cidrs_from_operator()) those of the IPAM state file when it has
// every enabled family (a restart works while etcd is down), else whatever
// the operator assigns (blocks, logging, until it does). nullopt when `stop`
// was set while waiting.
std::optional<PodCidrs> resolve_pod_cidrs(const config::AgentConfig& cfg, NodeRegistration& registration,
                                          const std::string& ipam_state_file, const std::atomic<bool>& stop);

// The PodCIDRs recorded in the agent's IPAM state file (NodeIpam's
// "ipv4-cidr"/"ipv6-cidr"), so an agent restarted while etcd is down comes
// back with the CIDRs it had. Empty when the file is missing or unreadable.
std::vector<IpPrefix> pod_cidrs_from_ipam_state(const std::string& path);

}  // namespace cpp::agent
