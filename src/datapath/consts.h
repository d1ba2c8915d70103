#pragma once
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <ciliumpp/abi.h>

#include "common/ip.h"
#include "common/mac.h"

namespace cpp::datapath {

// Load balancing (kube-proxy replacement) settings every program gets
// (bpf/lib/lb.h); set in one place, program_lb.h.
struct LbConsts {
  bool enabled = false;             // kube-proxy-replacement
  bool sock = false;                // bpf-lb-sock
  bool external_clusterip = false;  // bpf-lb-external-clusterip
  bool reject_no_backend = true;    // service-no-backend-response: reject (else drop)
  bool trace_sock = true;           // trace-sock: socket-LB translation events (TRACE_SOCK_NOTIFY)
  uint32_t map_max = CPP_LB_MAP_MAX_DEFAULT;  // bpf-lb-map-max: sizes the LB maps
  uint16_t node_port_min = 30000, node_port_max = 32767;  // node-port-range
  // ipv4/ipv6-service-loopback-address: the hairpin source (lib/lb_hairpin.h).
  IpAddr loopback_ipv4 = *IpAddr::parse("169.254.42.1");
  IpAddr loopback_ipv6 = *IpAddr::parse("fe80::1");
};

// Load-time constants shared by every program of a node (bpf/lib/config.h).
struct NodeConsts {
  bool enable_ipv4 = true;
  bool enable_ipv6 = true;
  std::optional<IpAddr> router_ipv4;  // cilium_host's IPv4 address
  std::optional<IpAddr> router_ipv6;  // cilium_host's IPv6 address
  // cilium_vxlan's ifindex (ENCAP_IFINDEX of bpf/lib/encap.h); 0 = no
  // overlay, remote destinations are left to the node's routing.
  int encap_ifindex = 0;
  LbConsts lb;
  // monitor-aggregation (MONITOR_AGGREGATION of bpf/lib/events.h): how many
  // trace events the datapath sends; drops and policy verdicts always.
  uint8_t monitor_aggregation = CPP_MONITOR_AGG_MEDIUM;
};

// The CPP_MONITOR_AGG_* level of a monitor-aggregation value (none, low,
// medium, maximum; empty = the default, medium). Throws
// std::invalid_argument naming the value.
inline uint8_t parse_monitor_aggregation(std::string_view v) {
  if (v.empty() || v == "medium") return CPP_MONITOR_AGG_MEDIUM;
  if (v == "none") return CPP_MONITOR_AGG_NONE;
  if (v == "low") return CPP_MONITOR_AGG_LOW;
  if (v == "maximum") return CPP_MONITOR_AGG_MAXIMUM;
  throw std::invalid_argument("monitor-aggregation: '" + std::string(v) +
                              "' is not one of none, low, medium, maximum");
}

// Load-time constants of one endpoint's bpf_lxc (the LXC_* globals). The
// host-side ifindex is passed to the loader separately.
struct EndpointConsts {
  uint16_t id = 0;              // endpoint id (LXC_ID)
  MacAddr lxc_mac{};            // host-side lxc MAC: the pod's router MAC
  std::optional<IpAddr> ipv4;   // the pod's addresses; a missing family
  std::optional<IpAddr> ipv6;   // means every source of that family is spoofed
  uint32_t sec_label = 0;       // security identity (SECLABEL)
};

}  // namespace cpp::datapath
