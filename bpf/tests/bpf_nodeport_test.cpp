// Packet tests (BPF_PROG_TEST_RUN) for NodePort in tc: cil_from_netdev
// translating requests from the world to a local backend (DNAT, client
// kept) or a remote one (DNAT + SNAT to the node + tunnel), the answers of
// remote backends on the native device and out of the tunnel
// (cil_from_overlay, which also gives a local pod's per-packet ClusterIP
// answers their frontend back), and frontends without backends (ICMP port
// unreachable, or drop). Checksums are recomputed independently.
#include "datapath/event_reader.h"
#include "datapath/metrics_map.h"
#include "nodeport_fixture.h"
#include "overlay_shim.skel.h"

namespace cpp::bpftest {
namespace {

constexpr int kShimTailCallFailed = 99;

class NodeportTcTest : public NodeportFixture {
 protected:
  void SetUp() override {
    NodeportFixture::SetUp();
    if (HasFatalFailure()) return;
    netdev_ = load<bpf_netdev>();
    overlay_ = load<bpf_overlay>();
    shim_ = overlay_shim::open_and_load();
    ASSERT_NE(shim_, nullptr);
    uint32_t zero = 0;
    int fd = bpf_program__fd(overlay_->progs.cil_from_overlay);
    ASSERT_EQ(bpf_map_update_elem(bpf_map__fd(shim_->maps.shim_target), &zero, &fd, BPF_ANY), 0);
  }
  void TearDown() override {
    if (shim_) overlay_shim::destroy(shim_);
  }

  RunResult from_netdev(const Bytes& pkt) {
    return test_run(bpf_program__fd(netdev_->progs.cil_from_netdev), pkt);
  }
  RunResult from_overlay(const Bytes& pkt) {
    shim_->bss->shim_vni = 6000;  // the backend pod's identity
    shim_->bss->shim_without_key = 0;
    return test_run(bpf_program__fd(shim_->progs.overlay_shim), pkt);
  }

  // A request to the remote-backend frontend; returns the node port SNAT chose.
  uint16_t remote_request(uint8_t proto, uint16_t sport) {
    auto r = from_netdev(request(proto, sport, kPortRemote));
    EXPECT_EQ(r.verdict, kTcActRedirect) << "remote backend: into the tunnel";
    auto s = parse_at(r.out, kEth);
    EXPECT_EQ(s.dst, remote_be());
    EXPECT_EQ(s.dport, kBackendPort);
    EXPECT_EQ(s.src, node()) << "SNAT to the node";
    EXPECT_TRUE(s.csum_ok);
    return s.sport;
  }
  // The backend's answer to node:port as it arrives (native device or tunnel).
  Bytes answer(uint8_t proto, uint16_t node_port) const {
    Bytes l4 = proto == kTcp ? tcp_segment(remote_be(), node(), kBackendPort, node_port, kTcpSyn | kTcpAck)
                             : udp_dgram(remote_be(), node(), kBackendPort, node_port, "answer");
    return in(remote_be(), node(), proto, l4);
  }
  void expect_answer_to_client(const RunResult& r, uint8_t proto, uint16_t sport) {
    EXPECT_EQ(r.verdict, kTcActRedirect) << "answers leave by redirect_neigh";
    auto s = parse_at(r.out, kEth);
    EXPECT_EQ(s.src, node()) << "source: the frontend";
    EXPECT_EQ(s.sport, kPortRemote);
    EXPECT_EQ(s.dst, client()) << "destination: the client again";
    EXPECT_EQ(s.dport, sport);
    EXPECT_EQ(s.proto, proto);
    EXPECT_TRUE(s.csum_ok);
  }

  SkelPtr<bpf_netdev> netdev_;
  SkelPtr<bpf_overlay> overlay_;
  overlay_shim* shim_ = nullptr;
};

TEST_P(NodeportTcTest, LocalBackendIsDnatedAndKeepsTheClient) {
  for (uint8_t proto : {kTcp, kUdp}) {
    SCOPED_TRACE(proto);
    auto req = request(proto, 40000, kPortLocal);
    auto r = from_netdev(req);
    ASSERT_EQ(r.verdict, kTcActOk) << "local backend: on into the stack";
    ASSERT_EQ(r.out.size(), req.size());
    auto s = parse_at(r.out, kEth);
    EXPECT_EQ(s.dst, local_be());
    EXPECT_EQ(s.dport, kBackendPort);
    EXPECT_EQ(s.src, client()) << "the client address is preserved";
    EXPECT_EQ(s.sport, 40000);
    EXPECT_TRUE(s.csum_ok);

    auto svc = lb_ct(client(), node(), 40000, kPortLocal, proto, CPP_LB_CT_SVC);
    ASSERT_TRUE(svc);
    EXPECT_EQ(svc->flags & (CPP_LB_CT_F_EXTERNAL | CPP_LB_CT_F_SNAT), CPP_LB_CT_F_EXTERNAL);
    auto rev = lb_ct(local_be(), client(), kBackendPort, 40000, proto, CPP_LB_CT_REV);
    ASSERT_TRUE(rev) << "the reply's REV entry (bpf_lxc applies it)";
    EXPECT_EQ(rev->flags & CPP_LB_CT_F_EXTERNAL, CPP_LB_CT_F_EXTERNAL);
    EXPECT_NE(rev->ifindex, 0u);
    EXPECT_EQ(ntohs(rev->port), kPortLocal);

    // The next packet of the connection takes the same way.
    auto r2 = from_netdev(request(proto, 40000, kPortLocal, kTcpAck));
    EXPECT_EQ(r2.verdict, kTcActOk);
    EXPECT_EQ(parse_at(r2.out, kEth).dst, local_be());
  }
}

TEST_P(NodeportTcTest, RemoteBackendIsDnatedSnatedAndTunnelled) {
  for (uint8_t proto : {kTcp, kUdp}) {
    SCOPED_TRACE(proto);
    uint16_t port = remote_request(proto, 40100);
    ASSERT_NE(port, 0);
    auto rev = lb_ct(remote_be(), client(), kBackendPort, 40100, proto, CPP_LB_CT_REV);
    ASSERT_TRUE(rev);
    EXPECT_EQ(rev->flags & (CPP_LB_CT_F_EXTERNAL | CPP_LB_CT_F_SNAT),
              CPP_LB_CT_F_EXTERNAL | CPP_LB_CT_F_SNAT);
    // Later packets keep the node port.
    auto r = from_netdev(request(proto, 40100, kPortRemote, kTcpAck));
    EXPECT_EQ(r.verdict, kTcActRedirect);
    EXPECT_EQ(parse_at(r.out, kEth).sport, port);
    // Another client port gets its own mapping, which reverses separately.
    uint16_t port2 = remote_request(proto, 40101);
    expect_answer_to_client(from_netdev(answer(proto, port2)), proto, 40101);
    expect_answer_to_client(from_netdev(answer(proto, port)), proto, 40100);
  }
}

TEST_P(NodeportTcTest, RemoteAnswerOutOfTheTunnelGoesBackToTheClient) {
  for (uint8_t proto : {kTcp, kUdp}) {
    SCOPED_TRACE(proto);
    uint16_t port = remote_request(proto, 40200);
    auto r = from_overlay(answer(proto, port));
    ASSERT_NE(r.verdict, kShimTailCallFailed);
    expect_answer_to_client(r, proto, 40200);
  }
  // Other traffic for the node from the tunnel still goes to its stack.
  auto other = in(remote_be(), node(), kTcp, tcp_segment(remote_be(), node(), 8080, 50000, kTcpAck));
  auto r = from_overlay(other);
  EXPECT_EQ(r.verdict, kTcActOk);
  EXPECT_EQ(r.out, other);
}

TEST_P(NodeportTcTest, TunnelAnswerToAPodsClusterIpRequestGetsTheFrontendBack) {
  // Pod B asked ClusterIP fe:80, bpf_lxc sent it to remote backend R.
  IpAddr fe = v6() ? ip("fd00:96::10") : ip("10.96.0.10");
  const IpAddr& b = v6() ? t_.b6 : t_.b4;
  put_lb_rev(remote_be(), b, kBackendPort, 40700, kTcp, fe, 80);
  auto ans = in(remote_be(), b, kTcp, tcp_segment(remote_be(), b, kBackendPort, 40700, kTcpSyn | kTcpAck));
  auto r = from_overlay(ans);
  ASSERT_EQ(r.verdict, kTcActRedirect) << "delivered into pod B";
  EXPECT_EQ(mac_at(r.out, 0), t_.b_mac);
  auto s = parse_at(r.out, kEth);
  EXPECT_EQ(s.src, fe) << "source: the ClusterIP the pod asked for";
  EXPECT_EQ(s.sport, 80);
  EXPECT_EQ(s.dst, b);
  EXPECT_EQ(s.dport, 40700);
  EXPECT_TRUE(s.csum_ok);
}

TEST_P(NodeportTcTest, TunnelIcmpErrorAboutAPodsClusterIpRequestQuotesTheFrontend) {
  // Pod B's UDP to ClusterIP fe:53 went to remote backend R, whose kernel
  // answers port unreachable quoting b:40800 -> R:backend port.
  IpAddr fe = v6() ? ip("fd00:96::10") : ip("10.96.0.10");
  const IpAddr& b = v6() ? t_.b6 : t_.b4;
  const size_t l3 = v6() ? 40 : 20;
  put_lb_rev(remote_be(), b, kBackendPort, 40800, kUdp, fe, 53);
  Bytes sent = in(b, remote_be(), kUdp, udp_dgram(b, remote_be(), 40800, kBackendPort, "q"));
  Bytes quote(sent.begin() + kEth, sent.begin() + kEth + l3 + 8);
  Bytes body = v6() ? icmp6_msg(remote_be(), b, 1, 4, 0, quote) : icmp4_msg(3, 3, 0, quote);
  auto r = from_overlay(in(remote_be(), b, v6() ? kIcmp6 : kIcmp, body));
  ASSERT_EQ(r.verdict, kTcActRedirect) << "delivered into pod B";
  const size_t q = kEth + l3 + 8;
  auto at = [&](size_t off) { return v6() ? ip6_at(r.out, off) : ip4_at(r.out, off); };
  EXPECT_EQ(at(kEth + (v6() ? 8 : 12)), fe) << "outer source: the backend became the frontend";
  EXPECT_EQ(at(q + (v6() ? 24 : 16)), fe) << "quoted destination";
  EXPECT_EQ(at(q + (v6() ? 8 : 12)), b) << "quoted source";
  EXPECT_EQ(be16(r.out, q + l3 + 2), 53) << "quoted destination port";
  if (v6()) {
    EXPECT_EQ(ipv6_l4_csum(fe, b, kIcmp6, &r.out[kEth + l3], r.out.size() - kEth - l3), 0) << "ICMPv6 checksum";
  } else {
    EXPECT_EQ(ipv4_header_csum(&r.out[kEth], 20), 0);
    EXPECT_EQ(ipv4_header_csum(&r.out[q], 20), 0) << "quoted header checksum";
    EXPECT_EQ(csum_finish(csum_add(0, &r.out[kEth + l3], r.out.size() - kEth - l3)), 0) << "ICMP checksum";
  }
}

TEST_P(NodeportTcTest, RemoteBackendsIcmpErrorReachesTheClientAboutTheNodePort) {
  // The remote backend's kernel answers the SNATed request (node:port ->
  // R:backend port) with port unreachable, on the native device or out of
  // the tunnel; the client must get it about client:sport -> node:NodePort.
  const size_t l3 = v6() ? 40 : 20, q = kEth + l3 + 8;
  uint16_t sport = 40900;
  for (bool tunnel : {false, true}) {
    SCOPED_TRACE(tunnel ? "tunnel" : "native device");
    uint16_t port = remote_request(kUdp, ++sport);
    Bytes sent = in(node(), remote_be(), kUdp, udp_dgram(node(), remote_be(), port, kBackendPort, "q"));
    Bytes quote(sent.begin() + kEth, sent.begin() + kEth + l3 + 8);
    Bytes body = v6() ? icmp6_msg(remote_be(), node(), 1, 4, 0, quote) : icmp4_msg(3, 3, 0, quote);
    Bytes err = in(remote_be(), node(), v6() ? kIcmp6 : kIcmp, body);
    auto r = tunnel ? from_overlay(err) : from_netdev(err);
    ASSERT_EQ(r.verdict, kTcActRedirect) << "back out to the client";
    auto at = [&](size_t off) { return v6() ? ip6_at(r.out, off) : ip4_at(r.out, off); };
    EXPECT_EQ(at(kEth + (v6() ? 8 : 12)), node()) << "outer source: the frontend";
    EXPECT_EQ(at(kEth + (v6() ? 24 : 16)), client()) << "outer destination: the client";
    EXPECT_EQ(at(q + (v6() ? 8 : 12)), client()) << "quoted source";
    EXPECT_EQ(be16(r.out, q + l3), sport) << "quoted source port";
    EXPECT_EQ(at(q + (v6() ? 24 : 16)), node()) << "quoted destination: the frontend";
    EXPECT_EQ(be16(r.out, q + l3 + 2), kPortRemote) << "quoted destination port: the NodePort";
    if (v6()) {
      EXPECT_EQ(ipv6_l4_csum(node(), client(), kIcmp6, &r.out[kEth + l3], r.out.size() - kEth - l3), 0);
    } else {
      EXPECT_EQ(ipv4_header_csum(&r.out[kEth], 20), 0);
      EXPECT_EQ(ipv4_header_csum(&r.out[q], 20), 0) << "quoted header checksum";
      EXPECT_EQ(csum_finish(csum_add(0, &r.out[kEth + l3], r.out.size() - kEth - l3)), 0) << "ICMP checksum";
    }
  }
}

TEST_P(NodeportTcTest, NotAFrontendPassesUntouched) {
  auto req = request(kTcp, 40300, 22);
  auto r = from_netdev(req);
  EXPECT_EQ(r.verdict, kTcActOk);
  EXPECT_EQ(r.out, req);
  // A frontend port on another address is not this frontend.
  auto other = in(client(), local_be(), kTcp, tcp_segment(client(), local_be(), 40300, kPortLocal, kTcpSyn));
  r = from_netdev(other);
  EXPECT_EQ(r.verdict, kTcActOk);
  EXPECT_EQ(r.out, other);
}

TEST_P(NodeportTcTest, NoBackendIsRejectedWithPortUnreachable) {
  for (uint8_t proto : {kTcp, kUdp}) {
    SCOPED_TRACE(proto);
    auto req = request(proto, 40400, kPortEmpty);
    auto r = from_netdev(req);
    ASSERT_EQ(r.verdict, kTcActRedirect) << "the answer leaves where the request came in";
    EXPECT_EQ(mac_at(r.out, 0), a_.gw_mac);
    EXPECT_EQ(mac_at(r.out, 6), a_.dev_mac);
    auto s = parse_at(r.out, kEth);
    EXPECT_EQ(s.src, node());
    EXPECT_EQ(s.dst, client());
    EXPECT_EQ(s.proto, v6() ? kIcmp6 : kIcmp);
    EXPECT_TRUE(s.csum_ok);
    size_t icmp = kEth + (v6() ? 40 : 20);
    EXPECT_EQ(r.out[icmp], v6() ? 1 : 3) << "destination unreachable";
    EXPECT_EQ(r.out[icmp + 1], v6() ? 4 : 3) << "port unreachable";
    // The quote starts with the request's IP header.
    auto q = parse_at(Bytes(r.out.begin() + icmp + 8, r.out.end()), 0);
    EXPECT_EQ(q.src, client());
    EXPECT_EQ(q.dst, node());
  }
}

TEST_P(NodeportTcTest, NoBackendIsDroppedUnderDrop) {
  netdev_ = load<bpf_netdev>(/*reject=*/false);
  auto r = from_netdev(request(kUdp, 40500, kPortEmpty));
  EXPECT_EQ(r.verdict, kTcActShot);
}

TEST_P(NodeportTcTest, WithoutLbTheFrontendIsNotTranslated) {
  bpf_object_open_opts opts{};
  opts.sz = sizeof(opts);
  opts.pin_root_path = pin_.path().c_str();
  SkelPtr<bpf_netdev> off(bpf_netdev::open(&opts));
  ASSERT_TRUE(off);
  configure(off.get(), true);
  off->rodata->ENABLE_LB = 0;
  ASSERT_EQ(bpf_netdev::load(off.get()), 0);
  auto req = request(kTcp, 40600, kPortLocal);
  auto r = test_run(bpf_program__fd(off->progs.cil_from_netdev), req);
  EXPECT_EQ(r.verdict, kTcActOk);
  EXPECT_EQ(r.out, req);
}

// Events (lib/nodeport.h np_trace): a translated request is traced with
// the frontend it was sent to (CPP_EVENT_F_XLATED), TO_STACK for a local
// backend and TO_OVERLAY for a remote one; only the request that made the
// LB entry at the default (medium) aggregation; every one counted as
// forwarded, the drop under "drop" counted with its reason.
TEST_P(NodeportTcTest, TranslatedRequestsAreTracedWithTheirFrontend) {
  std::vector<datapath::Event> got;
  datapath::EventReader reader(pin_.path(), [&](const datapath::Event& e) { got.push_back(e); });
  ASSERT_EQ(from_netdev(request(kTcp, 40700, kPortLocal)).verdict, kTcActOk);
  ASSERT_EQ(from_netdev(request(kTcp, 40700, kPortLocal, kTcpAck)).verdict, kTcActOk);
  remote_request(kTcp, 40701);
  reader.consume();
  ASSERT_EQ(got.size(), 2u);
  for (const auto& e : got) {
    EXPECT_EQ(e.type, CPP_EVENT_TRACE);
    EXPECT_EQ(e.direction, CPP_DIR_INGRESS);
    EXPECT_TRUE(e.xlated());
    EXPECT_EQ(e.orig_daddr, node());
    EXPECT_EQ(e.saddr, client());
    EXPECT_EQ(e.dport, kBackendPort);
    EXPECT_EQ(e.tcp_flags, kTcpSyn);
    EXPECT_EQ(e.src_identity, uint32_t{CPP_ID_WORLD});
  }
  EXPECT_EQ(got[0].obs_point, CPP_OBS_TO_STACK);
  EXPECT_EQ(got[0].daddr, local_be());
  EXPECT_EQ(got[0].orig_dport, kPortLocal);
  EXPECT_EQ(got[1].obs_point, CPP_OBS_TO_OVERLAY);
  EXPECT_EQ(got[1].daddr, remote_be());
  EXPECT_EQ(got[1].orig_dport, kPortRemote);
  EXPECT_EQ(got[1].dst_identity, 7000u);

  netdev_ = load<bpf_netdev>(/*reject=*/false);
  ASSERT_EQ(from_netdev(request(kUdp, 40702, kPortEmpty)).verdict, kTcActShot);
  uint64_t fwd = 0, no_service = 0;
  for (const auto& m : datapath::MetricsMap(pin_.path()).dump()) {
    if (m.reason == 0 && m.dir == CPP_METRIC_INGRESS) fwd = m.packets;
    if (m.reason == CPP_DROP_NO_SERVICE && m.dir == CPP_METRIC_INGRESS) no_service = m.packets;
  }
  EXPECT_EQ(fwd, 3u);
  EXPECT_EQ(no_service, 1u);
}

INSTANTIATE_TEST_SUITE_P(Families, NodeportTcTest, ::testing::Values(false, true),
                         [](const auto& i) { return i.param ? "IPv6" : "IPv4"; });

}  // namespace
}  // namespace cpp::bpftest
