#include "cni/pod_plumbing.h"

#include <sys/socket.h>

#include <algorithm>

#include "cni/cni_error.h"
#include "netlink/netns.h"

namespace cpp::cni {
namespace {

NetnsHandle open_pod_netns(const std::string& path) {
  try {
    return NetnsHandle::open_path(path);
  } catch (const std::exception& e) {
    throw CniError(kUnknownContainer, "network namespace " + path + " cannot be opened", e.what());
  }
}

IpPrefix host_prefix(const IpAddr& a) { return IpPrefix{a, a.bits()}; }

IpPrefix default_prefix(bool v6) {
  IpPrefix p;
  p.addr.v6 = v6;
  return p;
}

void configure_pod_side(Netlink& nl, const std::string& pod_if, const PodAddressing& net) {
  nl.set_up("lo");
  for (const auto& [addr, gw] : {std::pair{net.ipv4, net.gateway4}, std::pair{net.ipv6, net.gateway6}}) {
    if (!addr) continue;
    nl.add_address(pod_if, host_prefix(*addr), /*nodad=*/true);
  }
  nl.set_up(pod_if);
  for (const auto& [addr, gw] : {std::pair{net.ipv4, net.gateway4}, std::pair{net.ipv6, net.gateway6}}) {
    if (!addr || !gw) continue;
    Route onlink;
    onlink.dst = host_prefix(*gw);
    onlink.dev = pod_if;
    onlink.scope = RT_SCOPE_LINK;
    onlink.protocol = RTPROT_BOOT;
    nl.replace_route(onlink);
    Route def;
    def.dst = default_prefix(addr->v6);
    def.via = *gw;
    def.dev = pod_if;
    def.protocol = RTPROT_BOOT;
    nl.replace_route(def);
  }
}

}  // namespace

PlumbedPod plumb_pod(Netlink& node_nl, const std::string& pod_netns, const std::string& host_if,
                     const std::string& pod_if, const PodAddressing& net) {
  NetnsHandle pod_ns = open_pod_netns(pod_netns);
  PlumbedPod out;
  out.host = node_nl.create_veth(host_if, pod_if, pod_ns.fd(), net.mtu);
  try {
    node_nl.set_up(host_if);
    out.host = node_nl.require_link(host_if);
    out.pod = run_in_netns(pod_ns, [&] {
      Netlink nl;
      configure_pod_side(nl, pod_if, net);
      return nl.require_link(pod_if);
    });
  } catch (...) {
    node_nl.remove_link(host_if);
    throw;
  }
  return out;
}

std::string check_pod(const std::string& pod_netns, const std::string& pod_if, const PodAddressing& net) {
  NetnsHandle pod_ns = open_pod_netns(pod_netns);
  return run_in_netns(pod_ns, [&]() -> std::string {
    Netlink nl;
    auto link = nl.get_link(pod_if);
    if (!link) return "interface " + pod_if + " missing in " + pod_netns;
    if (!link->up) return "interface " + pod_if + " is down";
    auto addrs = nl.list_addresses(pod_if);
    for (const auto& a : {net.ipv4, net.ipv6}) {
      if (!a) continue;
      bool found = std::any_of(addrs.begin(), addrs.end(), [&](const IpPrefix& p) { return p.addr == *a; });
      if (!found) return "address " + a->str() + " missing on " + pod_if;
    }
    for (const auto& [addr, gw] : {std::pair{net.ipv4, net.gateway4}, std::pair{net.ipv6, net.gateway6}}) {
      if (!addr || !gw) continue;
      auto routes = nl.list_routes(addr->v6 ? AF_INET6 : AF_INET);
      bool found = std::any_of(routes.begin(), routes.end(), [&](const Route& r) {
        return r.dst.len == 0 && r.via && *r.via == *gw && r.dev == pod_if;
      });
      if (!found) return "default route via " + gw->str() + " missing in " + pod_netns;
    }
    return "";
  });
}

}  // namespace cpp::cni
