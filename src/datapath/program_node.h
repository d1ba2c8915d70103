#pragma once
// Node and NAT load-time constants for objects whose .rodata may declare
// only some of them (bpf_sock, bpf_xdp): each is set where declared.
#include <cstring>
#include <stdexcept>
#include <string>

#include "datapath/consts.h"
#include "datapath/nat_consts.h"

namespace cpp::datapath {

inline void copy_ip(void* dst, const std::optional<IpAddr>& a, bool v6, const char* what) {
  if (!a) return;
  if (a->v6 != v6) throw std::invalid_argument(std::string(what) + " is not an IPv" + (v6 ? "6" : "4") + " address: " + a->str());
  std::memcpy(dst, a->bytes.data(), v6 ? 16 : 4);  // network order
}

template <typename Skel>
void set_node_consts_if_declared(Skel* s, const NodeConsts& node) {
  if constexpr (requires { s->rodata; }) {
    auto* ro = s->rodata;
    if constexpr (requires { ro->ENABLE_IPV4; }) ro->ENABLE_IPV4 = node.enable_ipv4;
    if constexpr (requires { ro->ENABLE_IPV6; }) ro->ENABLE_IPV6 = node.enable_ipv6;
    if constexpr (requires { ro->ROUTER_IPV4; }) copy_ip(&ro->ROUTER_IPV4, node.router_ipv4, false, "router IPv4");
    if constexpr (requires { ro->ROUTER_IPV6; }) copy_ip(ro->ROUTER_IPV6, node.router_ipv6, true, "router IPv6");
    if constexpr (requires { ro->ENCAP_IFINDEX; }) ro->ENCAP_IFINDEX = static_cast<uint32_t>(node.encap_ifindex);
    if constexpr (requires { ro->MONITOR_AGGREGATION; }) ro->MONITOR_AGGREGATION = node.monitor_aggregation;
  }
}

template <typename Skel>
void set_nat_consts_if_declared(Skel* s, const NatConsts& nat) {
  if constexpr (requires { s->rodata; }) {
    auto* ro = s->rodata;
    if constexpr (requires { ro->NAT_IPV4; }) copy_ip(&ro->NAT_IPV4, nat.ipv4, false, "NAT IPv4");
    if constexpr (requires { ro->NAT_IPV6; }) copy_ip(ro->NAT_IPV6, nat.ipv6, true, "NAT IPv6");
    if constexpr (requires { ro->NAT_PORT_MIN; }) ro->NAT_PORT_MIN = nat.port_min;
    if constexpr (requires { ro->NAT_PORT_MAX; }) ro->NAT_PORT_MAX = nat.port_max;
  }
}

}  // namespace cpp::datapath
