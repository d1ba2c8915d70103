// End-to-end datapath test in network namespaces: one "node" namespace with
// cilium_host/cilium_net and two "pod" namespaces, each joined to the node by
// a veth pair (lxcN in the node, eth0 in the pod). bpf_lxc runs on both lxc
// devices, bpf_host on cilium_host, loaded by the real Loader. Pings prove
// the programs carry the traffic: removing a map entry breaks the path.
//
// Nothing here touches the root namespace: devices are created directly in
// the test namespaces (`ip -n`), sysctls are set inside the node namespace.
#include <gtest/gtest.h>
#include <net/if.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "datapath/endpoint_map.h"
#include "datapath/loader.h"
#include "datapath/tc.h"
#include "netns_util.h"
#include "test_util.h"

namespace cpp::bpftest {
namespace {

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
  int lxc_ifindex = 0;
};

class DatapathNetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    prefix_ = "cpp-dp-" + std::to_string(::getpid()) + "-" + random_suffix();
    node_ = prefix_ + "-node";
    pods_[0] = Pod{prefix_ + "-pod1", "lxc1", ip("10.233.64.10"), ip("fd00:cafe::10"),
                   MacAddr{0x02, 0, 0, 0, 1, 2}, MacAddr{0x02, 0, 0, 0, 1, 1}, 101};
    pods_[1] = Pod{prefix_ + "-pod2", "lxc2", ip("10.233.64.20"), ip("fd00:cafe::20"),
                   MacAddr{0x02, 0, 0, 0, 2, 2}, MacAddr{0x02, 0, 0, 0, 2, 1}, 102};
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
    const std::string n = "ip -n " + node_ + " ";
    // Only inside the node: forwarding on, reverse-path filtering off
    // (pods' packets come in on lxc*, the route back leaves via cilium_host).
    must(in_ns(node_) +
         "sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 "
         "net.ipv4.conf.default.rp_filter=0 net.ipv6.conf.all.forwarding=1");
    must(n + "link set lo up");
    must(n + "link add cilium_host type veth peer name cilium_net");
    must(n + "link set cilium_host arp off");  // NOARP, as upstream
    must(n + "link set cilium_host up");
    must(n + "link set cilium_net up");
    must(n + "addr add " + router4_.str() + "/32 dev cilium_host");
    must(n + "addr add " + router6_.str() + "/128 dev cilium_host nodad");
    must(n + "route add 10.233.64.0/24 dev cilium_host src " + router4_.str());
    must(n + "-6 route add fd00:cafe::/64 dev cilium_host src " + router6_.str());
  }

  void build_pod(Pod& p) {
    add_ns(p.ns);
    const std::string n = "ip -n " + node_ + " ";
    const std::string q = "ip -n " + p.ns + " ";
    must(n + "link add " + p.lxc + " address " + mac_str(p.lxc_mac) +
         " type veth peer name eth0 address " + mac_str(p.mac) + " netns " + p.ns);
    must(n + "link set " + p.lxc + " up");
    must(q + "link set lo up");
    must(q + "link set eth0 up");
    must(q + "addr add " + p.ip4.str() + "/32 dev eth0");
    must(q + "addr add " + p.ip6.str() + "/128 dev eth0 nodad");
    must(q + "route add " + router4_.str() + " dev eth0");
    must(q + "route add default via " + router4_.str());
    must(q + "-6 route add " + router6_.str() + " dev eth0");
    must(q + "-6 route add default via " + router6_.str());
  }

  NodeConsts node_consts() const {
    NodeConsts c;
    c.router_ipv4 = router4_;
    c.router_ipv6 = router6_;
    return c;
  }

  EndpointConsts ep_consts(const Pod& p) const {
    EndpointConsts e;
    e.id = p.id;
    e.lxc_mac = p.lxc_mac;
    e.ipv4 = p.ip4;
    e.ipv6 = p.ip6;
    return e;
  }

  cpp_endpoint_info ep_info(const Pod& p) const {
    cpp_endpoint_info i{};
    i.ifindex = static_cast<uint32_t>(p.lxc_ifindex);
    i.lxc_id = p.id;
    std::copy(p.mac.begin(), p.mac.end(), i.mac);
    std::copy(p.lxc_mac.begin(), p.lxc_mac.end(), i.node_mac);
    return i;
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

TEST_F(DatapathNetnsTest, PodToPodIpv4) {
  auto r = ping(pods_[0].ns, pods_[1].ip4);
  ASSERT_EQ(r.status, 0) << r.output;
  // One hop, counted by bpf_lxc (the node's stack never saw the packet).
  EXPECT_NE(r.output.find("ttl=63"), std::string::npos) << r.output;

  remove_endpoint(pods_[1]);
  EXPECT_TRUE(ping_fails(pods_[0].ns, pods_[1].ip4)) << "reached pod2 without its map entry";
  add_endpoint(pods_[1]);
  r = ping(pods_[0].ns, pods_[1].ip4);
  EXPECT_EQ(r.status, 0) << r.output;
}

TEST_F(DatapathNetnsTest, PodToPodIpv6) {
  auto r = ping(pods_[0].ns, pods_[1].ip6);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("ttl=63"), std::string::npos) << r.output;

  remove_endpoint(pods_[1]);
  EXPECT_TRUE(ping_fails(pods_[0].ns, pods_[1].ip6)) << "reached pod2 without its map entry";
  add_endpoint(pods_[1]);
  r = ping(pods_[1].ns, pods_[0].ip6);
  EXPECT_EQ(r.status, 0) << r.output;
}

TEST_F(DatapathNetnsTest, NodeToPodIpv4AndIpv6) {
  for (const auto& dst : {pods_[0].ip4, pods_[0].ip6, pods_[1].ip4, pods_[1].ip6}) {
    auto r = ping(node_, dst);
    EXPECT_EQ(r.status, 0) << dst.str() << "\n" << r.output;
  }
  remove_endpoint(pods_[0]);
  EXPECT_TRUE(ping_fails(node_, pods_[0].ip4)) << "reached pod1 (IPv4) without its map entry";
  EXPECT_TRUE(ping_fails(node_, pods_[0].ip6)) << "reached pod1 (IPv6) without its map entry";
  // The other pod is unaffected.
  EXPECT_EQ(ping(node_, pods_[1].ip4).status, 0);
}

TEST_F(DatapathNetnsTest, PodToRouter) {
  EXPECT_EQ(ping(pods_[0].ns, router4_).status, 0);
  EXPECT_EQ(ping(pods_[0].ns, router6_).status, 0);
  // The pod learned its router from our ARP / NA replies: the lxc MAC.
  auto neigh = must("ip -n " + pods_[0].ns + " neigh show dev eth0");
  EXPECT_NE(neigh.find(router4_.str() + " lladdr " + mac_str(pods_[0].lxc_mac)),
            std::string::npos)
      << neigh;
  EXPECT_NE(neigh.find(router6_.str() + " lladdr " + mac_str(pods_[0].lxc_mac)),
            std::string::npos)
      << neigh;
}

TEST_F(DatapathNetnsTest, SpoofedSourceIsDropped) {
  ASSERT_EQ(ping(pods_[0].ns, pods_[1].ip4).status, 0);
  // pod1 takes an address that isn't its endpoint's and tries to use it.
  must("ip -n " + pods_[0].ns + " addr add 10.233.64.99/32 dev eth0");
  must("ip -n " + pods_[0].ns + " addr add fd00:cafe::99/128 dev eth0 nodad");
  EXPECT_TRUE(ping_fails(pods_[0].ns, pods_[1].ip4, "-I 10.233.64.99"));
  EXPECT_TRUE(ping_fails(pods_[0].ns, pods_[1].ip6, "-I fd00:cafe::99"));
  EXPECT_TRUE(ping_fails(pods_[0].ns, router4_, "-I 10.233.64.99"));
}

TEST_F(DatapathNetnsTest, ProgramsAreReplacedInPlaceAndDetached) {
  std::optional<uint32_t> before, after, host;
  run_in_netns(node_, [&] {
    before = datapath::tc_query(pods_[0].lxc_ifindex, datapath::TcDir::Ingress);
    host = datapath::tc_query(host_ifindex_, datapath::TcDir::Egress);
    // A restarted agent: new Loader, same pin dir, same devices.
    Loader(pin_.path()).load_lxc_program(node_consts(), ep_consts(pods_[0]), pods_[0].lxc_ifindex);
    after = datapath::tc_query(pods_[0].lxc_ifindex, datapath::TcDir::Ingress);
  });
  ASSERT_TRUE(before && after && host);
  EXPECT_NE(*before, *after) << "program was not replaced";
  // Maps were reused, not recreated: the endpoints are still known.
  EXPECT_EQ(ping(pods_[0].ns, pods_[1].ip4).status, 0);
  EXPECT_EQ(ping(pods_[0].ns, pods_[1].ip6).status, 0);

  run_in_netns(node_, [&] {
    Loader::detach_lxc(pods_[0].lxc_ifindex);
    EXPECT_FALSE(datapath::tc_query(pods_[0].lxc_ifindex, datapath::TcDir::Ingress));
    Loader::detach_lxc(pods_[0].lxc_ifindex);  // idempotent
    EXPECT_TRUE(datapath::tc_query(host_ifindex_, datapath::TcDir::Egress)) << "wrong program detached";
    // Attaching again to a device whose clsact qdisc already exists.
    Loader(pin_.path()).load_lxc_program(node_consts(), ep_consts(pods_[0]), pods_[0].lxc_ifindex);
    EXPECT_TRUE(datapath::tc_query(pods_[0].lxc_ifindex, datapath::TcDir::Ingress));
  });
  // (No traffic check for the detached state: the node's stack answers
  // ARP for its own addresses on any device, so pod1 keeps connectivity
  // through the stack and bpf_host.)
  auto r = ping(pods_[0].ns, pods_[1].ip4);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("ttl=63"), std::string::npos) << r.output;
}

TEST_F(DatapathNetnsTest, LoaderErrorsNameDeviceAndStep) {
  run_in_netns(node_, [&] {
    try {
      Loader(pin_.path()).load_lxc_program(node_consts(), ep_consts(pods_[0]), 999999);
      ADD_FAILURE() << "attached to a missing device";
    } catch (const std::runtime_error& e) {
      std::string msg = e.what();
      EXPECT_NE(msg.find("ifindex 999999"), std::string::npos) << msg;
      EXPECT_NE(msg.find("ingress"), std::string::npos) << msg;
    }
    try {
      NodeConsts bad = node_consts();
      bad.router_ipv4 = router6_;
      Loader(pin_.path()).load_host_program(bad, host_ifindex_);
      ADD_FAILURE() << "accepted an IPv6 router IPv4 address";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("router IPv4"), std::string::npos) << e.what();
    }
  });
}

}  // namespace
}  // namespace cpp::bpftest
