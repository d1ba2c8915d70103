// End-to-end datapath test in network namespaces (topology: netns_fixture.h).
// bpf_lxc runs on both lxc devices, bpf_host on cilium_host, loaded by the
// real Loader. Pings prove the programs carry the traffic: removing a map
// entry breaks the path.
#include <gtest/gtest.h>

#include <optional>

#include "datapath/endpoint_map.h"
#include "datapath/loader.h"
#include "datapath/tc.h"
#include "netns_fixture.h"

namespace cpp::bpftest {
namespace {

class DatapathNetnsTest : public NetnsNodeTest {};

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
