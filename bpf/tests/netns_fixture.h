#pragma once
// A node and two pods out of network namespaces, with the real Loader, for
// the datapath namespace tests: one "node" namespace with
// cilium_host/cilium_net and two "pod" namespaces, each joined to the node
// by a veth pair (lxcN in the node, eth0 in the pod). bpf_lxc runs on both
// lxc devices, bpf_host on cilium_host.
//
// Nothing here touches the root namespace: devices are created directly in
// the test namespaces (`ip -n`), sysctls are set inside the node namespace.
// Namespaces are cpp-dp-<pid>-<rand>-*, pins live in a TestPinDir; both go
// away when the test ends, also when it fails.
#include <gtest/gtest.h>
#include <net/if.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <vector>

#include "datapath/endpoint_map.h"
#include "datapath/loader.h"
#include "netns_util.h"
#include "test_util.h"

namespace cpp::bpftest {

using datapath::EndpointConsts;
using datapath::Loader;
using datapath::NodeConsts;

struct Pod {
  std::string ns;
  std::string lxc;  // host-side device in the node namespace
  IpAddr ip4, ip6;
  MacAddr mac;      // eth0
  MacAddr lxc_mac;  // host side, the pod's router MAC
  uint16_t id;
  uint32_t identity = 0;  // security identity (SECLABEL, cpp_lxc sec_id)
  int lxc_ifindex = 0;
  uint32_t flags = 0;  // cpp_lxc flags (policy enforcement)
};

// bpf_lxc's compile-time constants for pod p.
inline EndpointConsts ep_consts(const Pod& p) {
  EndpointConsts e;
  e.id = p.id;
  e.lxc_mac = p.lxc_mac;
  e.ipv4 = p.ip4;
  e.ipv6 = p.ip6;
  e.sec_label = p.identity;
  return e;
}

// Pod p's endpoint map entry.
inline cpp_endpoint_info ep_info(const Pod& p) {
  cpp_endpoint_info i{};
  i.ifindex = static_cast<uint32_t>(p.lxc_ifindex);
  i.lxc_id = p.id;
  i.flags = p.flags;
  i.sec_id = p.identity;
  std::copy(p.mac.begin(), p.mac.end(), i.mac);
  std::copy(p.lxc_mac.begin(), p.lxc_mac.end(), i.node_mac);
  return i;
}

// cilium_host/cilium_net in node namespace ns, holding the router addresses
// and the routes to the node's pod CIDRs. Only inside the node: forwarding
// on, reverse-path filtering off (pods' packets come in on lxc*, the route
// back leaves via cilium_host).
inline void plumb_node(const std::string& ns, const IpAddr& router4, const IpAddr& router6, const std::string& cidr4,
                       const std::string& cidr6) {
  const std::string n = "ip -n " + ns + " ";
  must(in_ns(ns) +
       "sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 "
       "net.ipv4.conf.default.rp_filter=0 net.ipv6.conf.all.forwarding=1");
  must(n + "link set lo up");
  must(n + "link add cilium_host type veth peer name cilium_net");
  must(n + "link set cilium_host arp off");  // NOARP, as upstream
  must(n + "link set cilium_host up");
  must(n + "link set cilium_net up");
  must(n + "addr add " + router4.str() + "/32 dev cilium_host");
  must(n + "addr add " + router6.str() + "/128 dev cilium_host nodad");
  must(n + "route add " + cidr4 + " dev cilium_host src " + router4.str());
  must(n + "-6 route add " + cidr6 + " dev cilium_host src " + router6.str());
}

// Pod p's veth pair (p.lxc in node namespace node_ns, eth0 in p.ns, both
// with MTU mtu unless 0), its addresses and its routes via the node's routers.
inline void plumb_pod(const std::string& node_ns, const Pod& p, const IpAddr& router4, const IpAddr& router6,
                      int mtu = 0) {
  const std::string n = "ip -n " + node_ns + " ";
  const std::string q = "ip -n " + p.ns + " ";
  const std::string m = mtu ? " mtu " + std::to_string(mtu) : "";
  must(n + "link add " + p.lxc + m + " address " + mac_str(p.lxc_mac) + " type veth peer name eth0" + m +
       " address " + mac_str(p.mac) + " netns " + p.ns);
  must(n + "link set " + p.lxc + " up");
  must(q + "link set lo up");
  must(q + "link set eth0 up");
  must(q + "addr add " + p.ip4.str() + "/32 dev eth0");
  must(q + "addr add " + p.ip6.str() + "/128 dev eth0 nodad");
  must(q + "route add " + router4.str() + " dev eth0");
  must(q + "route add default via " + router4.str());
  must(q + "-6 route add " + router6.str() + " dev eth0");
  must(q + "-6 route add default via " + router6.str());
}

class NetnsNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    prefix_ = "cpp-dp-" + std::to_string(::getpid()) + "-" + random_suffix();
    node_ = prefix_ + "-node";
    pods_[0] = Pod{prefix_ + "-pod1", "lxc1", ip("10.233.64.10"), ip("fd00:cafe::10"),
                   MacAddr{0x02, 0, 0, 0, 1, 2}, MacAddr{0x02, 0, 0, 0, 1, 1}, 101, 1001};
    pods_[1] = Pod{prefix_ + "-pod2", "lxc2", ip("10.233.64.20"), ip("fd00:cafe::20"),
                   MacAddr{0x02, 0, 0, 0, 2, 2}, MacAddr{0x02, 0, 0, 0, 2, 1}, 102, 1002};
    build_node();
    for (auto& p : pods_) build_pod(p);
    load_datapath();
  }

  void TearDown() override {
    // Deleting a namespace deletes its devices, which drops the tc filters
    // and so the programs. Pins go with pin_ (the pin directory).
    for (const auto& ns : created_) sh("ip netns del " + ns);
  }

  void add_ns(const std::string& ns) {
    must("ip netns add " + ns);
    created_.push_back(ns);
  }

  void build_node() {
    add_ns(node_);
    plumb_node(node_, router4_, router6_, "10.233.64.0/24", "fd00:cafe::/64");
  }

  void build_pod(Pod& p) {
    add_ns(p.ns);
    plumb_pod(node_, p, router4_, router6_);
  }

  NodeConsts node_consts() const {
    NodeConsts c;
    c.router_ipv4 = router4_;
    c.router_ipv6 = router6_;
    return c;
  }

  void add_endpoint(const Pod& p) {
    datapath::EndpointMap eps(pin_.path());
    eps.upsert(p.ip4, ep_info(p));
    eps.upsert(p.ip6, ep_info(p));
  }

  void remove_endpoint(const Pod& p) {
    datapath::EndpointMap eps(pin_.path());
    eps.remove(p.ip4);
    eps.remove(p.ip6);
  }

  // What the agent does: maps first, then programs, then map entries.
  void load_datapath() {
    run_in_netns(node_, [&] {
      Loader loader(pin_.path());
      loader.ensure_maps();
      host_ifindex_ = static_cast<int>(if_nametoindex("cilium_host"));
      ASSERT_GT(host_ifindex_, 0);
      loader.load_host_program(node_consts(), host_ifindex_);
      for (auto& p : pods_) {
        p.lxc_ifindex = static_cast<int>(if_nametoindex(p.lxc.c_str()));
        ASSERT_GT(p.lxc_ifindex, 0);
        loader.load_lxc_program(node_consts(), ep_consts(p), p.lxc_ifindex);
      }
    });
    datapath::EndpointMap eps(pin_.path());
    cpp_endpoint_info host{};
    host.flags = CPP_EP_F_HOST;
    eps.upsert(router4_, host);
    eps.upsert(router6_, host);
    for (const auto& p : pods_) add_endpoint(p);
  }

  // One echo request; a few attempts, since the first one may race the
  // pod's neighbour resolution.
  CmdResult ping(const std::string& from_ns, const IpAddr& dst, const std::string& extra = "") {
    CmdResult r;
    for (int attempt = 0; attempt < 3; ++attempt) {
      r = sh(in_ns(from_ns) + "ping " + (dst.v6 ? "-6 " : "-4 ") + extra + " -n -c 1 -W 2 " +
             dst.str());
      if (r.status == 0) break;
    }
    return r;
  }
  // Expecting no answer: two quick requests, one second of waiting.
  bool ping_fails(const std::string& from_ns, const IpAddr& dst, const std::string& extra = "") {
    auto r = sh(in_ns(from_ns) + "ping " + (dst.v6 ? "-6 " : "-4 ") + extra +
                " -n -c 2 -i 0.2 -W 1 " + dst.str());
    return r.status != 0;
  }

  TestPinDir pin_;
  IpAddr router4_ = ip("10.233.64.1"), router6_ = ip("fd00:cafe::1");
  std::string prefix_, node_;
  Pod pods_[2];
  int host_ifindex_ = 0;
  std::vector<std::string> created_;
};

}  // namespace cpp::bpftest
