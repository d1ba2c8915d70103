// Packet tests for the overlay (BPF_PROG_TEST_RUN): cil_from_overlay with
// the VNI as source identity, and the encapsulation paths of
// cil_from_container and cil_from_host. The node of policy_fixture.h (pods A
// and B local) talks to remote pod R on node 192.0.2.2.
#include <bpf/bpf.h>
#include <gtest/gtest.h>

#include <cstring>

#include "overlay_shim.skel.h"
#include "policy_fixture.h"

namespace cpp::bpftest {
namespace {

constexpr size_t kEth = 14;
constexpr int kShimTailCallFailed = 99;
constexpr int kVxlanIfindex = 77;  // any ifindex: test runs never transmit
constexpr uint32_t kIdX = 5000, kIdY = 6000, kIdR = 7000;

const IpAddr kRemoteNode = ip("192.0.2.2");
const MacAddr kRemoteMac{0x02, 0xdd, 0, 0, 0, 0x01};
const MacAddr kRemoteRouterMac{0x02, 0xdd, 0, 0, 0, 0x02};

class OverlayTest : public PolicyFixture, public ::testing::WithParamInterface<bool> {
 protected:
  void SetUp() override {
    PolicyFixture::SetUp();
    if (HasFatalFailure()) return;
    overlay_.emplace(datapath::load_overlay_object(pin_.path(), t_.node()));
    shim_ = overlay_shim::open_and_load();
    ASSERT_NE(shim_, nullptr);
    uint32_t zero = 0;
    int fd = overlay_->fd();
    ASSERT_EQ(bpf_map_update_elem(bpf_map__fd(shim_->maps.shim_target), &zero, &fd, BPF_ANY), 0);
    // Encapsulating copies of pod A's program and of the host program.
    auto node = t_.node();
    node.encap_ifindex = kVxlanIfindex;
    lxc_a_.reset();
    host_.reset();
    lxc_a_.emplace(datapath::load_lxc_object(pin_.path(), node, t_.pod_a(), t_.a_ifindex));
    host_.emplace(datapath::load_host_object(pin_.path(), node));
  }
  void TearDown() override {
    if (shim_) overlay_shim::destroy(shim_);
    PolicyFixture::TearDown();
  }

  bool v6() const { return GetParam(); }
  IpAddr r() const { return v6() ? ip("fd00:cafe:1::7") : ip("10.233.65.7"); }
  IpAddr a() const { return v6() ? t_.a6 : t_.a4; }
  IpAddr b() const { return v6() ? t_.b6 : t_.b4; }
  IpAddr router() const { return v6() ? t_.router6 : t_.router4; }
  IpPrefix remote_cidr() const { return v6() ? *IpPrefix::parse("fd00:cafe:1::/64") : *IpPrefix::parse("10.233.65.0/24"); }

  // A frame as it comes out of the tunnel: the remote pod's frame to its router.
  Bytes from_tunnel(const IpAddr& s, const IpAddr& d, const Bytes& l4, uint8_t proto = kTcp) {
    return frame(kRemoteRouterMac, kRemoteMac, s, d, proto, l4);
  }
  RunResult run_overlay(const Bytes& pkt, uint32_t vni, bool with_key = true) {
    shim_->bss->shim_vni = vni;
    shim_->bss->shim_without_key = with_key ? 0 : 1;
    return test_run(bpf_program__fd(shim_->progs.overlay_shim), pkt);
  }
  static cpp_ipcache_value remote(uint32_t id, const IpAddr& node, uint32_t flags = 0) {
    cpp_ipcache_value v{};
    v.sec_identity = id;
    std::memcpy(&v.tunnel_endpoint, node.bytes.data(), 4);
    v.flags = flags;
    return v;
  }

  // Delivered into pod B: its MACs, one hop counted, the rest unchanged.
  void expect_to_b(const Bytes& in, const RunResult& res) {
    ASSERT_EQ(res.verdict, kTcActRedirect);
    ASSERT_EQ(res.out.size(), in.size());
    EXPECT_EQ(mac_at(res.out, 0), t_.b_mac);
    EXPECT_EQ(mac_at(res.out, 6), t_.b_lxc_mac);
    if (v6()) {
      EXPECT_EQ(res.out[kEth + 7], in[kEth + 7] - 1);
    } else {
      EXPECT_EQ(res.out[kEth + 8], in[kEth + 8] - 1);
      EXPECT_EQ(ipv4_header_csum(&res.out[kEth], 20), 0);
    }
    size_t l4 = kEth + (v6() ? 40 : 20);
    EXPECT_TRUE(std::equal(in.begin() + l4, in.end(), res.out.begin() + l4));
  }

  std::optional<datapath::LoadedProgram> overlay_;
  overlay_shim* shim_ = nullptr;
};

INSTANTIATE_TEST_SUITE_P(Family, OverlayTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "IPv6" : "IPv4"; });

TEST_P(OverlayTest, VniIdentityDecidesTheReceiversIngressPolicy) {
  set_flags_b(CPP_EP_F_ENFORCE_INGRESS);
  allow(kEpB, CPP_DIR_INGRESS, kIdX, kTcp, 80, 42);
  events();
  auto syn = from_tunnel(r(), b(), tcp(r(), b(), 40000, 80, kTcpSyn));
  expect_to_b(syn, run_overlay(syn, kIdX));
  auto ev = of_type(events(), CPP_EVENT_POLICY_VERDICT);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].verdict, CPP_VERDICT_ALLOWED);
  EXPECT_EQ(ev[0].src_identity, kIdX) << "the VNI, not an ipcache lookup of the source";
  EXPECT_EQ(ev[0].cookie, 42u);

  auto syn_y = from_tunnel(r(), b(), tcp(r(), b(), 40001, 80, kTcpSyn));
  EXPECT_EQ(run_overlay(syn_y, kIdY).verdict, kTcActShot);
  auto drops = of_type(events(), CPP_EVENT_DROP);
  ASSERT_EQ(drops.size(), 1u);
  EXPECT_EQ(drops[0].reason, CPP_DROP_POLICY);
  EXPECT_EQ(drops[0].src_identity, kIdY);

  // The ipcache's opinion of the source address does not matter.
  ipc_->upsert(IpPrefix{r(), r().bits()}, ident(kIdX));
  auto syn_y2 = from_tunnel(r(), b(), tcp(r(), b(), 40002, 80, kTcpSyn));
  EXPECT_EQ(run_overlay(syn_y2, kIdY).verdict, kTcActShot);
}

TEST_P(OverlayTest, EstablishedConnectionFromTheTunnelPassesWithoutPolicy) {
  set_flags_b(CPP_EP_F_ENFORCE_INGRESS);
  allow(kEpB, CPP_DIR_INGRESS, kIdX, kTcp, 80);
  auto syn = from_tunnel(r(), b(), tcp(r(), b(), 40010, 80, kTcpSyn));
  ASSERT_EQ(run_overlay(syn, kIdX).verdict, kTcActRedirect);
  policy_->remove(datapath::PolicyKey{kEpB, CPP_DIR_INGRESS, kTcp, kIdX, 80});
  auto ack = from_tunnel(r(), b(), tcp(r(), b(), 40010, 80, kTcpAck));
  expect_to_b(ack, run_overlay(ack, kIdX));
}

TEST_P(OverlayTest, RemoteHostIdentityIsRemoteNodeHere) {
  set_flags_b(CPP_EP_F_ENFORCE_INGRESS);
  allow(kEpB, CPP_DIR_INGRESS, CPP_ID_REMOTE_NODE, 0, 0);
  events();
  auto ping = from_tunnel(r(), b(), echo(r(), b(), 7), icmp_proto(b()));
  expect_to_b(ping, run_overlay(ping, CPP_ID_HOST));
  auto ev = of_type(events(), CPP_EVENT_POLICY_VERDICT);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].src_identity, uint32_t{CPP_ID_REMOTE_NODE});

  // An allow for "host" must not let another node's host in.
  policy_->remove(datapath::PolicyKey{kEpB, CPP_DIR_INGRESS, 0, CPP_ID_REMOTE_NODE, 0});
  allow(kEpB, CPP_DIR_INGRESS, CPP_ID_HOST, 0, 0);
  auto ping2 = from_tunnel(r(), b(), echo(r(), b(), 8), icmp_proto(b()));
  EXPECT_EQ(run_overlay(ping2, CPP_ID_HOST).verdict, kTcActShot);
}

TEST_P(OverlayTest, HostAndUnknownDestinationsGoToTheStackUnchanged) {
  for (const auto& dst : {router(), v6() ? ip("fd00:cafe::99") : ip("10.233.64.99")}) {
    auto in = from_tunnel(r(), dst, echo(r(), dst, 9), icmp_proto(dst));
    auto res = run_overlay(in, kIdX);
    EXPECT_EQ(res.verdict, kTcActOk) << dst.str();
    EXPECT_EQ(res.out, in) << dst.str();
  }
}

TEST_P(OverlayTest, PacketsWithoutTunnelMetadataOrNonIpAreDropped) {
  auto in = from_tunnel(r(), b(), echo(r(), b(), 10), icmp_proto(b()));
  EXPECT_EQ(run_overlay(in, kIdX, /*with_key=*/false).verdict, kTcActShot);
  auto arp = arp_packet(1, MacAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, kRemoteMac, t_.world4, MacAddr{}, t_.b4);
  EXPECT_EQ(run_overlay(arp, kIdX).verdict, kTcActShot);
}

TEST_P(OverlayTest, PodTrafficToARemotePodIsEncapsulated) {
  auto in = from_a(a(), r(), kTcp, tcp(a(), r(), 41000, 80, kTcpSyn));
  EXPECT_EQ(run_a(in).verdict, kTcActOk) << "no ipcache entry: the stack routes it";

  ipc_->upsert(IpPrefix{r(), r().bits()}, remote(kIdR, kRemoteNode));
  auto res = run_a(in);
  EXPECT_EQ(res.verdict, kTcActRedirect) << "into cilium_vxlan";
  EXPECT_EQ(res.out, in) << "the inner frame travels as the pod sent it";

  ipc_->upsert(IpPrefix{r(), r().bits()}, remote(kIdR, kRemoteNode, CPP_IPCACHE_F_SKIP_TUNNEL));
  EXPECT_EQ(run_a(in).verdict, kTcActOk) << "skip-tunnel entries are routed natively";
  ipc_->upsert(IpPrefix{r(), r().bits()}, ident(kIdR));
  EXPECT_EQ(run_a(in).verdict, kTcActOk) << "an entry without a tunnel endpoint is local/native";

  // A tunnel route for the whole remote PodCIDR covers pods without an entry.
  ipc_->remove(IpPrefix{r(), r().bits()});
  ipc_->upsert(remote_cidr(), remote(CPP_ID_WORLD, kRemoteNode));
  EXPECT_EQ(run_a(in).verdict, kTcActRedirect);
}

TEST_P(OverlayTest, EgressPolicyIsCheckedBeforeEncapsulation) {
  ipc_->upsert(IpPrefix{r(), r().bits()}, remote(kIdR, kRemoteNode));
  set_flags_a(CPP_EP_F_ENFORCE_EGRESS);
  auto in = from_a(a(), r(), kTcp, tcp(a(), r(), 41001, 80, kTcpSyn));
  EXPECT_EQ(run_a(in).verdict, kTcActShot);
  allow(kEpA, CPP_DIR_EGRESS, kIdR, kTcp, 80);
  EXPECT_EQ(run_a(in).verdict, kTcActRedirect);
}

TEST_P(OverlayTest, WithoutOverlayDeviceRemoteTrafficIsRouted) {
  ipc_->upsert(IpPrefix{r(), r().bits()}, remote(kIdR, kRemoteNode));
  lxc_a_.reset();
  lxc_a_.emplace(datapath::load_lxc_object(pin_.path(), t_.node(), t_.pod_a(), t_.a_ifindex));
  auto in = from_a(a(), r(), kTcp, tcp(a(), r(), 41002, 80, kTcpSyn));
  EXPECT_EQ(run_a(in).verdict, kTcActOk) << "ENCAP_IFINDEX 0: routing-mode native";
}

TEST_P(OverlayTest, NodeTrafficToARemotePodIsEncapsulated) {
  auto in = from_host(router(), r(), icmp_proto(r()), echo(router(), r(), 11));
  EXPECT_EQ(run_host(in).verdict, kTcActOk);
  ipc_->upsert(remote_cidr(), remote(CPP_ID_WORLD, kRemoteNode));
  auto res = run_host(in);
  EXPECT_EQ(res.verdict, kTcActRedirect);
  EXPECT_EQ(res.out, in);
  // A local pod is still delivered locally, not tunnelled.
  auto to_b = from_host(router(), b(), icmp_proto(b()), echo(router(), b(), 12));
  EXPECT_EQ(run_host(to_b).verdict, kTcActRedirect);
  EXPECT_EQ(mac_at(run_host(to_b).out, 0), t_.b_mac);
}

// Trace events (lib/trace.h): delivery out of the tunnel is the receiver's
// TO_ENDPOINT with the VNI identity; a pod's packet into the tunnel is its
// TO_OVERLAY.
TEST_P(OverlayTest, TunnelTrafficIsTracedWithItsObservationPoints) {
  events();
  auto syn = from_tunnel(r(), b(), tcp(r(), b(), 40020, 80, kTcpSyn));
  ASSERT_EQ(run_overlay(syn, kIdX).verdict, kTcActRedirect);
  auto tr = of_type(events(), CPP_EVENT_TRACE);
  ASSERT_EQ(tr.size(), 1u);
  EXPECT_EQ(tr[0].obs_point, CPP_OBS_TO_ENDPOINT);
  EXPECT_EQ(tr[0].ep_id, kEpB);
  EXPECT_EQ(tr[0].direction, CPP_DIR_INGRESS);
  EXPECT_EQ(tr[0].src_identity, kIdX);
  EXPECT_EQ(tr[0].dst_identity, kIdB);
  EXPECT_EQ(tr[0].ifindex, static_cast<uint32_t>(t_.b_ifindex));
  EXPECT_EQ(tr[0].tcp_flags, kTcpSyn);
  // Established: no trace at the default (medium) aggregation.
  auto ack = from_tunnel(r(), b(), tcp(r(), b(), 40020, 80, kTcpAck));
  ASSERT_EQ(run_overlay(ack, kIdX).verdict, kTcActRedirect);
  EXPECT_TRUE(of_type(events(), CPP_EVENT_TRACE).empty());

  ipc_->upsert(IpPrefix{r(), r().bits()}, remote(kIdR, kRemoteNode));
  auto out = from_a(a(), r(), kTcp, tcp(a(), r(), 41010, 80, kTcpSyn));
  ASSERT_EQ(run_a(out).verdict, kTcActRedirect);
  tr = of_type(events(), CPP_EVENT_TRACE);
  ASSERT_EQ(tr.size(), 1u);
  EXPECT_EQ(tr[0].obs_point, CPP_OBS_TO_OVERLAY);
  EXPECT_EQ(tr[0].ep_id, kEpA);
  EXPECT_EQ(tr[0].direction, CPP_DIR_EGRESS);
  EXPECT_EQ(tr[0].src_identity, kIdA);
  EXPECT_EQ(tr[0].dst_identity, kIdR);
}

}  // namespace
}  // namespace cpp::bpftest
