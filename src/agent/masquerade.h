#pragma once
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/ip.h"
#include "config/agent_config.h"
#include "datapath/consts.h"
#include "datapath/loader.h"
#include "netlink/rtnl.h"

namespace cpp::agent {

// Masquerading (pod -> outside-the-cluster SNAT to the node's address,
// bpf/lib/nat.h) on the node's native devices.
//
// Which devices: the `devices` key if set (every listed device that
// exists), else the device of the node's default route, else the first
// device with a global address (never lo, lxc*, cilium_*). Each device
// masquerades to its own first global address of each family.

// A candidate device as seen through netlink.
struct NativeLink {
  std::string name;
  int ifindex = 0;
  std::vector<IpAddr> addrs;  // global addresses, in kernel order
};

struct MasqTarget {
  std::string name;
  int ifindex = 0;
  std::optional<IpAddr> ipv4, ipv6;  // SNAT addresses; missing = family off here
};

struct MasqSettings {
  bool ipv4 = false;  // enable-ipv4 && enable-ipv4-masquerade && enable-bpf-masquerade
  bool ipv6 = false;
  std::vector<std::string> devices;  // `devices`
};

struct MasqPlan {
  std::vector<MasqTarget> targets;    // devices to attach to (with at least one address)
  std::vector<std::string> warnings;  // why something asked for is not done
};

MasqSettings masq_settings(const config::AgentConfig& cfg);

// Pure: the devices and addresses for `s`, given the links of the node and
// the devices its default routes leave through (IPv4 first).
MasqPlan plan_masquerade(const MasqSettings& s, const std::vector<NativeLink>& links,
                         const std::vector<std::string>& default_route_devs);

// For /v1/status: [{"device", "ipv4", "ipv6"}], the devices masquerading.
nlohmann::json masq_to_json(const std::vector<MasqTarget>& targets);

// Looks at the node's devices, attaches bpf_netdev to the planned ones
// (replace semantics: a restarted agent swaps programs without a gap) and,
// when masquerading is off, removes our programs from the native devices a
// previous run may have left them on. Logs warnings; returns what it did.
std::vector<MasqTarget> setup_masquerade(const config::AgentConfig& cfg, const datapath::Loader& loader,
                                         const datapath::NodeConsts& node, Netlink& nl);

}  // namespace cpp::agent
