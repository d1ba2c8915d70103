#include "agent/host_devices.h"

#include "common/log.h"
#include "netlink/sysctl.h"

namespace cpp::agent {
namespace {

constexpr const char* kHost = "cilium_host";
constexpr const char* kNet = "cilium_net";
constexpr int kVxlanOverhead = 50;

void set_namespace_sysctls() {
  // Forwarding: pod traffic to the world is routed by this node. rp_filter
  // off: replies to pods leave via cilium_host while requests arrive on lxc
  // devices, which strict reverse-path filtering would drop.
  write_sysctl("net.ipv4.ip_forward", "1");
  write_sysctl("net.ipv6.conf.all.forwarding", "1");
  for (const char* dev : {"all", "default", kHost, kNet}) {
    write_sysctl(std::string("net/ipv4/conf/") + dev + "/rp_filter", "0");
  }
}

}  // namespace

int derive_pod_mtu(Netlink& nl, int configured, bool tunnel) {
  if (configured > 0) return configured;
  int underlay = 1500;
  for (const auto& l : nl.list_links()) {
    if (l.name == "lo" || l.name.rfind("lxc", 0) == 0 || l.name.rfind("cilium_", 0) == 0) continue;
    if (l.up && l.mtu > 0) {
      underlay = l.mtu;
      break;
    }
  }
  return tunnel ? underlay - kVxlanOverhead : underlay;
}

LinkInfo ensure_host_devices(Netlink& nl, const HostAddressing& want) {
  auto existing = nl.get_link(kHost);
  if (existing && existing->kind != "veth") {
    throw std::runtime_error(std::string(kHost) + " exists but is a " + existing->kind + " device, not veth");
  }
  if (!existing) nl.create_veth(kHost, kNet, -1, want.mtu);
  for (const char* dev : {kHost, kNet}) {
    nl.set_arp(dev, false);
    nl.set_mtu(dev, want.mtu);
    nl.set_up(dev);
  }
  set_namespace_sysctls();
  for (const auto& [router, cidr] : {std::pair{want.router4, want.cidr4}, std::pair{want.router6, want.cidr6}}) {
    if (!router || !cidr) continue;
    nl.add_address(kHost, IpPrefix{*router, router->bits()}, /*nodad=*/true);
    Route r;
    r.dst = *cidr;
    r.dev = kHost;
    r.src = *router;
    r.mtu = want.mtu;
    // IPv4 keeps upstream's "PodCIDR via <router IP>" shape; IPv6 refuses a
    // local gateway, and on a NOARP device a plain device route is equivalent.
    if (!router->v6) r.via = *router;
    nl.replace_route(r);
  }
  return nl.require_link(kHost);
}

}  // namespace cpp::agent
