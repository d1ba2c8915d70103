// Packet tests for bpf_host (cil_from_host, tc egress of cilium_host): what
// the node routes into the pod CIDR is handed to the pod's lxc device.
#include <gtest/gtest.h>

#include "fixture.h"

namespace cpp::bpftest {
namespace {

class BpfHostTest : public DatapathFixture {
 protected:
  void SetUp() override {
    DatapathFixture::SetUp();
    load(t_.node());
  }
  void load(const datapath::NodeConsts& node) {
    prog_.reset();
    prog_.emplace(datapath::load_host_object(pin_.path(), node));
  }
  RunResult run(const Bytes& pkt) { return test_run(prog_->fd(), pkt); }

  // As the node sends them on NOARP cilium_host: to and from its own MAC.
  Bytes v4(const IpAddr& src, const IpAddr& dst, uint8_t proto, const Bytes& l4) {
    return ipv4_packet(t_.host_mac, t_.host_mac, src, dst, proto, l4, 63);
  }
  Bytes v6(const IpAddr& src, const IpAddr& dst, uint8_t nh, const Bytes& l4) {
    return ipv6_packet(t_.host_mac, t_.host_mac, src, dst, nh, l4, 63);
  }

  // Only the MACs change: the kernel already did the routing.
  void expect_to_pod_b(const Bytes& in, const RunResult& r) {
    ASSERT_EQ(r.verdict, kTcActRedirect);
    ASSERT_EQ(r.out.size(), in.size());
    EXPECT_EQ(mac_at(r.out, 0), t_.b_mac);
    EXPECT_EQ(mac_at(r.out, 6), t_.b_lxc_mac);
    EXPECT_TRUE(std::equal(in.begin() + 12, in.end(), r.out.begin() + 12));
  }

  std::optional<datapath::LoadedProgram> prog_;
};

TEST_F(BpfHostTest, Ipv4ToLocalPodIsRedirected) {
  auto icmp = v4(t_.router4, t_.b4, 1, icmp4_echo(9, 1));
  expect_to_pod_b(icmp, run(icmp));
  auto tcp = v4(t_.world4, t_.b4, 6, tcp_syn(t_.world4, t_.b4, 5555, 80));
  expect_to_pod_b(tcp, run(tcp));
  auto udp = v4(t_.a4, t_.b4, 17, udp_dgram(t_.a4, t_.b4, 5555, 53, "q"));
  expect_to_pod_b(udp, run(udp));
}

TEST_F(BpfHostTest, Ipv6ToLocalPodIsRedirected) {
  auto icmp = v6(t_.router6, t_.b6, 58, icmp6_echo(t_.router6, t_.b6, 9, 1));
  expect_to_pod_b(icmp, run(icmp));
  auto tcp = v6(t_.world6, t_.b6, 6, tcp_syn(t_.world6, t_.b6, 5555, 80));
  expect_to_pod_b(tcp, run(tcp));
  auto udp = v6(t_.a6, t_.b6, 17, udp_dgram(t_.a6, t_.b6, 5555, 53, "q"));
  expect_to_pod_b(udp, run(udp));
}

TEST_F(BpfHostTest, HostAndUnknownDestinationsPassUnchanged) {
  for (const auto& dst : {t_.router4, t_.world4, ip("10.233.64.99")}) {
    auto in = v4(t_.router4, dst, 1, icmp4_echo(1, 1));
    auto r = run(in);
    EXPECT_EQ(r.verdict, kTcActOk) << dst.str();
    EXPECT_EQ(r.out, in);
  }
  for (const auto& dst : {t_.router6, t_.world6, ip("fd00:cafe::99")}) {
    auto in = v6(t_.router6, dst, 58, icmp6_echo(t_.router6, dst, 1, 1));
    auto r = run(in);
    EXPECT_EQ(r.verdict, kTcActOk) << dst.str();
    EXPECT_EQ(r.out, in);
  }
}

TEST_F(BpfHostTest, NonIpTrafficPasses) {
  auto arp = arp_packet(1, MacAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, t_.host_mac, t_.router4,
                        MacAddr{}, t_.b4);
  EXPECT_EQ(run(arp).verdict, kTcActOk);
  Bytes lldp = eth_hdr(MacAddr{0x01, 0x80, 0xc2, 0, 0, 0x0e}, t_.host_mac, 0x88cc);
  lldp.resize(60, 0);
  EXPECT_EQ(run(lldp).verdict, kTcActOk);
}

TEST_F(BpfHostTest, DisabledFamilyIsLeftToTheStack) {
  load(t_.node(false, true));
  EXPECT_EQ(run(v4(t_.router4, t_.b4, 1, icmp4_echo(1, 1))).verdict, kTcActOk);
  auto in6 = v6(t_.router6, t_.b6, 58, icmp6_echo(t_.router6, t_.b6, 1, 1));
  expect_to_pod_b(in6, run(in6));
  load(t_.node(true, false));
  EXPECT_EQ(run(in6).verdict, kTcActOk);
}

TEST_F(BpfHostTest, EndpointAddedAfterLoadIsSeen) {
  // Maps are shared through the pins: an entry written by the control plane
  // after the program was loaded takes effect immediately.
  auto c4 = ip("10.233.64.30");
  auto in = v4(t_.router4, c4, 1, icmp4_echo(1, 1));
  EXPECT_EQ(run(in).verdict, kTcActOk);
  eps_->upsert(c4, t_.info_b());
  expect_to_pod_b(in, run(in));
}

}  // namespace
}  // namespace cpp::bpftest
