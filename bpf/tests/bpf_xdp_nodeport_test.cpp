// Packet tests (BPF_PROG_TEST_RUN) for cil_xdp_entry, the XDP NodePort
// path: DNAT to a local backend and XDP_PASS; DNAT + SNAT + a VXLAN frame
// built in XDP (outer headers parsed and checked here) and XDP_TX for a
// remote backend, whose answer the tc path then takes back to the client
// (same entries); ICMP port unreachable built in XDP (or drop) for
// frontends without backends; and everything XDP cannot finish left
// untouched. The runs happen inside a
// cpp- network namespace whose device "dev0" has the node's address and a
// neighbour entry for the remote node, so bpf_fib_lookup has a real answer.
#include <net/if.h>

#include "netns_util.h"
#include "nodeport_fixture.h"

namespace cpp::bpftest {
namespace {

constexpr int kXdpDrop = 1, kXdpPass = 2, kXdpTx = 3;
constexpr size_t kOuter = 14 + 20 + 8 + 8;  // eth + IPv4 + UDP + VXLAN
const MacAddr kNode2Mac{0x02, 0xdd, 0, 0, 0, 0x01};

class XdpNodeportTest : public NodeportFixture {
 protected:
  void SetUp() override {
    NodeportFixture::SetUp();
    if (HasFatalFailure()) return;
    ns_ = "cpp-npx-" + std::to_string(::getpid()) + "-" + random_suffix();
    must("ip netns add " + ns_);
    ns_made_ = true;
    const std::string n = "ip -n " + ns_ + " ";
    must(n + "link add dev0 address " + mac_str(a_.dev_mac) + " type veth peer name dev1");
    must(n + "addr add 192.0.2.1/24 dev dev0");
    must(n + "link set dev0 up");
    must(n + "link set dev1 up");
    must(n + "neigh replace 192.0.2.2 lladdr " + mac_str(kNode2Mac) + " dev dev0 nud permanent");
    // bpf_fib_lookup answers only for devices that forward.
    must(in_ns(ns_) + "sysctl -qw net.ipv4.conf.all.forwarding=1");
    run_in_netns(ns_, [&] { ifindex_ = static_cast<int>(::if_nametoindex("dev0")); });
    ASSERT_GT(ifindex_, 0);
    xdp_ = load<bpf_xdp>();
  }
  void TearDown() override {
    xdp_.reset();
    if (ns_made_) sh("ip netns del " + ns_);
  }

  RunResult run(const Bytes& pkt) {
    RunResult r;
    run_in_netns(ns_, [&] {
      r.out.assign(pkt.size() + 256, 0);
      xdp_md ctx{};
      ctx.data_end = static_cast<uint32_t>(pkt.size());  // the frame, from offset 0
      ctx.ingress_ifindex = static_cast<uint32_t>(ifindex_);
      bpf_test_run_opts o{};
      o.sz = sizeof(o);
      o.data_in = pkt.data();
      o.data_size_in = static_cast<uint32_t>(pkt.size());
      o.data_out = r.out.data();
      o.data_size_out = static_cast<uint32_t>(r.out.size());
      o.ctx_in = &ctx;
      o.ctx_size_in = sizeof(ctx);
      o.repeat = 1;
      int err = bpf_prog_test_run_opts(bpf_program__fd(xdp_->progs.cil_xdp_entry), &o);
      if (err) throw std::runtime_error(std::string("XDP test run: ") + std::strerror(-err));
      r.verdict = static_cast<int>(o.retval);
      r.out.resize(o.data_size_out);
    });
    return r;
  }

  std::string ns_;
  bool ns_made_ = false;
  int ifindex_ = 0;
  SkelPtr<bpf_xdp> xdp_;
};

TEST_P(XdpNodeportTest, LocalBackendIsDnatedAndPassed) {
  for (uint8_t proto : {kTcp, kUdp}) {
    SCOPED_TRACE(proto);
    auto req = request(proto, 41000, kPortLocal);
    auto r = run(req);
    ASSERT_EQ(r.verdict, kXdpPass);
    ASSERT_EQ(r.out.size(), req.size());
    auto s = parse_at(r.out, kEth);
    EXPECT_EQ(s.dst, local_be());
    EXPECT_EQ(s.dport, kBackendPort);
    EXPECT_EQ(s.src, client()) << "client kept";
    EXPECT_EQ(s.sport, 41000);
    EXPECT_TRUE(s.csum_ok) << "checksums patched by hand";
    auto rev = lb_ct(local_be(), client(), kBackendPort, 41000, proto, CPP_LB_CT_REV);
    ASSERT_TRUE(rev) << "the tc path's REV entry";
    EXPECT_EQ(rev->flags & (CPP_LB_CT_F_EXTERNAL | CPP_LB_CT_F_SNAT), CPP_LB_CT_F_EXTERNAL);
    EXPECT_EQ(rev->ifindex, static_cast<uint32_t>(ifindex_));
  }
}

TEST_P(XdpNodeportTest, RemoteBackendGetsAVxlanFrameAndXdpTx) {
  auto netdev = load<bpf_netdev>();
  for (uint8_t proto : {kTcp, kUdp}) {
    SCOPED_TRACE(proto);
    auto req = request(proto, 41100, kPortRemote);
    auto r = run(req);
    ASSERT_EQ(r.verdict, kXdpTx);
    ASSERT_EQ(r.out.size(), req.size() + kOuter);
    const Bytes& f = r.out;
    // Outer Ethernet: to the remote node's MAC from our device.
    EXPECT_EQ(mac_at(f, 0), kNode2Mac);
    EXPECT_EQ(mac_at(f, 6), a_.dev_mac);
    EXPECT_EQ(be16(f, 12), 0x0800);
    // Outer IPv4: node -> node2, UDP, TTL 64, valid header checksum.
    auto o = parse_at(f, kEth);
    EXPECT_EQ(o.src, a_.node4);
    EXPECT_EQ(o.dst, a_.node2);
    EXPECT_EQ(o.proto, kUdp);
    EXPECT_EQ(f[kEth + 8], 64);
    EXPECT_EQ(ipv4_header_csum(f.data() + kEth, 20), 0);
    EXPECT_EQ(be16(f, kEth + 2), req.size() + kOuter - kEth);
    // Outer UDP to 8472 from the ephemeral range, no checksum (RFC 7348).
    size_t udp = kEth + 20;
    EXPECT_EQ(be16(f, udp + 2), 8472);
    EXPECT_GE(be16(f, udp), 32768);
    EXPECT_LE(be16(f, udp), 60999);
    EXPECT_EQ(be16(f, udp + 4), req.size() + 16);
    EXPECT_EQ(be16(f, udp + 6), 0);
    // VXLAN: I flag, VNI = host (1).
    size_t vx = udp + 8;
    EXPECT_EQ(f[vx], 0x08);
    EXPECT_EQ((f[vx + 4] << 16) | (f[vx + 5] << 8) | f[vx + 6], CPP_ID_HOST);
    // Inner frame: the request DNATed to the backend and SNATed to the node.
    auto inner = parse_at(f, kOuter + kEth);
    EXPECT_EQ(inner.dst, remote_be());
    EXPECT_EQ(inner.dport, kBackendPort);
    EXPECT_EQ(inner.src, node());
    EXPECT_TRUE(inner.csum_ok);
    uint16_t port = inner.sport;

    // Later packets keep the node port and take the same path.
    auto r2 = run(request(proto, 41100, kPortRemote, kTcpAck));
    ASSERT_EQ(r2.verdict, kXdpTx);
    EXPECT_EQ(parse_at(r2.out, kOuter + kEth).sport, port);

    // The answer goes back through tc (cil_from_netdev) with XDP's entries.
    Bytes l4 = proto == kTcp ? tcp_segment(remote_be(), node(), kBackendPort, port, kTcpSyn | kTcpAck)
                             : udp_dgram(remote_be(), node(), kBackendPort, port, "answer");
    auto a = test_run(bpf_program__fd(netdev->progs.cil_from_netdev), in(remote_be(), node(), proto, l4));
    EXPECT_EQ(a.verdict, kTcActRedirect);
    auto s = parse_at(a.out, kEth);
    EXPECT_EQ(s.src, node());
    EXPECT_EQ(s.sport, kPortRemote);
    EXPECT_EQ(s.dst, client());
    EXPECT_EQ(s.dport, 41100);
    EXPECT_TRUE(s.csum_ok);
  }
}

TEST_P(XdpNodeportTest, NoRouteToTheTunnelEndpointIsLeftToTc) {
  cpp_ipcache_value v{};
  v.sec_identity = 7000;
  IpAddr far = ip("198.51.100.9");  // no route in the namespace
  std::memcpy(&v.tunnel_endpoint, far.bytes.data(), 4);
  ipc_->upsert(IpPrefix{remote_be(), remote_be().bits()}, v);
  auto req = request(kTcp, 41200, kPortRemote);
  auto r = run(req);
  EXPECT_EQ(r.verdict, kXdpPass);
  EXPECT_EQ(r.out, req) << "untouched";
  EXPECT_FALSE(lb_ct(client(), node(), 41200, kPortRemote, kTcp, CPP_LB_CT_SVC))
      << "nothing recorded: tc decides";
}

TEST_P(XdpNodeportTest, NoBackendIsAnsweredWithPortUnreachable) {
  for (uint8_t proto : {kTcp, kUdp}) {
    SCOPED_TRACE(proto);
    auto req = request(proto, 41300, kPortEmpty);
    auto r = run(req);
    ASSERT_EQ(r.verdict, kXdpTx) << "the answer leaves where the request came in";
    size_t ip_len = v6() ? 40 : 20;
    ASSERT_EQ(r.out.size(), kEth + 2 * (ip_len + 8)) << "headers + the request's IP header and 8 bytes";
    EXPECT_EQ(mac_at(r.out, 0), a_.gw_mac);
    EXPECT_EQ(mac_at(r.out, 6), a_.dev_mac);
    EXPECT_EQ(be16(r.out, 12), v6() ? 0x86dd : 0x0800);
    auto s = parse_at(r.out, kEth);
    EXPECT_EQ(s.src, node()) << "from the frontend";
    EXPECT_EQ(s.dst, client());
    EXPECT_EQ(s.proto, v6() ? kIcmp6 : kIcmp);
    EXPECT_TRUE(s.csum_ok) << "IP header and ICMP checksums";
    size_t icmp = kEth + ip_len;
    EXPECT_EQ(r.out[icmp], v6() ? 1 : 3) << "destination unreachable";
    EXPECT_EQ(r.out[icmp + 1], v6() ? 4 : 3) << "port unreachable";
    Bytes quote(r.out.begin() + static_cast<long>(icmp + 8), r.out.end());
    EXPECT_TRUE(std::equal(quote.begin(), quote.end(), req.begin() + kEth))
        << "the quote is the request from its IP header on";
  }
}

TEST_P(XdpNodeportTest, NoBackendIsDroppedUnderDrop) {
  xdp_ = load<bpf_xdp>(/*reject=*/false);
  EXPECT_EQ(run(request(kUdp, 41310, kPortEmpty)).verdict, kXdpDrop);
}

TEST_P(XdpNodeportTest, OtherTrafficPassesUntouched) {
  auto req = request(kTcp, 41400, 22);
  auto r = run(req);
  EXPECT_EQ(r.verdict, kXdpPass);
  EXPECT_EQ(r.out, req);
  auto arp = arp_packet(1, MacAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, a_.gw_mac, a_.node2, MacAddr{},
                        a_.node4);
  EXPECT_EQ(run(arp).verdict, kXdpPass);
}

INSTANTIATE_TEST_SUITE_P(Families, XdpNodeportTest, ::testing::Values(false, true),
                         [](const auto& i) { return i.param ? "IPv6" : "IPv4"; });

}  // namespace
}  // namespace cpp::bpftest
