// NodePort across two nodes with real traffic, built out of network
// namespaces: an underlay bridge br0 joining node 1 (192.0.2.1 /
// fd00:aa::1), node 2 (192.0.2.2 / fd00:aa::2) and a "world" client
// (192.0.2.100 / fd00:aa::100); pod A1 on node 1 and pod B1 on node 2,
// real kernel VXLAN between the nodes (tunnel routing mode). Node 1 runs
// the real Loader for bpf_host / bpf_overlay / bpf_lxc with kube-proxy
// replacement on, and bpf_netdev (and for the XDP cases bpf_xdp, native
// mode) on its underlay device; the LB maps are filled by hand:
//
//   :30080 -> A1:8080 (local backend: the backend sees the world client)
//   :30081 -> B1:8080 (remote backend: SNAT to node 1, VXLAN to node 2; the
//             answer comes back through the tunnel or on the underlay,
//             depending on node 2's ipcache entry for node 1)
//   :30082 -> no backend: ICMP port unreachable (ECONNREFUSED), from tc
//             and, with tc's LB off, from XDP alone
//
// TCP and UDP, IPv4 and IPv6. The servers answer with the peer address
// they saw. Everything lives in cpp-np-<pid>-<rand>-* namespaces and a
// TestPinDir per node; both are removed when the test ends.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <thread>

#include "agent/vxlan_device.h"
#include "bpf_netdev.skel.h"
#include "bpf_xdp.skel.h"
#include "datapath/endpoint_map.h"
#include "datapath/ipcache_map.h"
#include "datapath/loader.h"
#include "datapath/pinned_map.h"
#include "datapath/tc.h"
#include "netlink/rtnl.h"
#include "netns_fixture.h"
#include "test_util.h"

namespace cpp::bpftest {
namespace {

constexpr int kPodMtu = 1450;
constexpr uint16_t kBackendPort = 8080;
constexpr uint16_t kPortLocal = 30080, kPortRemote = 30081, kPortEmpty = 30082;
constexpr uint8_t kTcp = 6, kUdp = 17;

struct NpNode {
  std::string ns;
  IpAddr ip4, ip6, router4, router6;
  IpPrefix cidr4, cidr6;
  Pod pod;
  std::unique_ptr<TestPinDir> pin;
  int vxlan_ifindex = 0, eth0_ifindex = 0;
  std::string ul_port;  // eth0's peer on the bridge
};

// The result of one client exchange: the peer address the server saw, or
// the errno that ended it.
struct Exchange {
  std::string seen;
  int err = 0;
};

// The peer's address as text, IPv4-mapped IPv6 shown as IPv4.
std::string peer_text(const sockaddr_storage& peer) {
  char host[INET6_ADDRSTRLEN] = {};
  if (peer.ss_family == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&peer)->sin6_addr, host, sizeof(host));
  } else {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&peer)->sin_addr, host, sizeof(host));
  }
  std::string s = host;
  return s.rfind("::ffff:", 0) == 0 && s.find('.') != std::string::npos ? s.substr(7) : s;
}

// Serves fd: every TCP connection / UDP datagram is answered with the
// peer's address as the server sees it.
void serve_peer_address(int fd, int stop_fd, bool udp) {
  for (;;) {
    pollfd p[2] = {{fd, POLLIN, 0}, {stop_fd, POLLIN, 0}};
    if (::poll(p, 2, -1) < 0 || (p[1].revents & POLLIN)) return;
    sockaddr_storage peer{};
    socklen_t len = sizeof(peer);
    char buf[2048];
    if (udp) {
      if (::recvfrom(fd, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&peer), &len) < 0) continue;
      auto text = peer_text(peer);
      ::sendto(fd, text.data(), text.size(), 0, reinterpret_cast<sockaddr*>(&peer), len);
      continue;
    }
    int c = ::accept4(fd, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
    if (c < 0) continue;
    auto text = peer_text(peer);
    ::send(c, text.data(), text.size(), MSG_NOSIGNAL);
    ::close(c);
  }
}

// One exchange from namespace ns with dst:port, 2 s at most.
Exchange exchange(const std::string& ns, const IpAddr& dst, uint16_t port, bool udp) {
  Exchange ex;
  int fd = -1;
  run_in_netns(ns, [&] { fd = ::socket(dst.v6 ? AF_INET6 : AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0); });
  if (fd < 0) return {"", errno};
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  socklen_t len;
  auto sa = sockaddr_of(dst, port, len);
  char buf[128] = {};
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), len) != 0) {
    ex.err = errno;
  } else {
    if (udp && ::send(fd, "hello", 5, 0) < 0) ex.err = errno;
    if (!ex.err) {
      ssize_t n = ::recv(fd, buf, sizeof(buf) - 1, 0);
      if (n < 0) ex.err = errno;
      else ex.seen.assign(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  return ex;
}

template <typename Skel>
struct SkelDeleter {
  void operator()(Skel* s) const { Skel::destroy(s); }
};

class NodeportNetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    prefix_ = "cpp-np-" + std::to_string(::getpid()) + "-" + random_suffix();
    ul_ = prefix_ + "-ul";
    world_ = prefix_ + "-w";
    add_ns(ul_);
    must("ip -n " + ul_ + " link add br0 type bridge && ip -n " + ul_ + " link set br0 up");

    n1_ = NpNode{prefix_ + "-n1", ip("192.0.2.1"), ip("fd00:aa::1"), ip("10.233.64.1"), ip("fd00:cafe::1"),
                 *IpPrefix::parse("10.233.64.0/24"), *IpPrefix::parse("fd00:cafe::/64"),
                 Pod{prefix_ + "-a1", "lxca1", ip("10.233.64.10"), ip("fd00:cafe::10"), MacAddr{2, 0, 0, 0, 0xa1, 2},
                     MacAddr{2, 0, 0, 0, 0xa1, 1}, 101, 1001}};
    n2_ = NpNode{prefix_ + "-n2", ip("192.0.2.2"), ip("fd00:aa::2"), ip("10.233.65.1"), ip("fd00:cafe:1::1"),
                 *IpPrefix::parse("10.233.65.0/24"), *IpPrefix::parse("fd00:cafe:1::/64"),
                 Pod{prefix_ + "-b1", "lxcb1", ip("10.233.65.10"), ip("fd00:cafe:1::10"), MacAddr{2, 0, 0, 0, 0xb1, 2},
                     MacAddr{2, 0, 0, 0, 0xb1, 1}, 201, 2001}};
    for (auto* n : {&n1_, &n2_}) {
      build_node(*n);
      load_datapath(*n);
    }
    build_world();
    // Node 1 reaches node 2's pods through the tunnel.
    datapath::IpcacheMap ic1(n1_.pin->path());
    for (const auto& c : {n2_.cidr4, n2_.cidr6}) ic1.upsert(c, remote(CPP_ID_WORLD, n2_.ip4));
    ic1.upsert(IpPrefix{n2_.pod.ip4, 32}, remote(n2_.pod.identity, n2_.ip4));
    ic1.upsert(IpPrefix{n2_.pod.ip6, 128}, remote(n2_.pod.identity, n2_.ip4));
    answers_through_tunnel(true);
    add_services();
    load_netdev(n1_.vxlan_ifindex);
    start_servers();
  }

  void TearDown() override {
    servers_.clear();
    for (auto it = created_.rbegin(); it != created_.rend(); ++it) sh("ip netns del " + *it);
    for (auto* n : {&n1_, &n2_}) n->pin.reset();
  }

  void add_ns(const std::string& ns) {
    must("ip netns add " + ns);
    created_.push_back(ns);
  }

  // A veth from the bridge into ns as eth0 with the given addresses.
  std::string attach_to_bridge(const std::string& ns, const IpAddr& a4, const IpAddr& a6) {
    std::string port = "p" + random_suffix().substr(0, 8);
    must("ip -n " + ul_ + " link add " + port + " type veth peer name eth0 netns " + ns);
    must("ip -n " + ul_ + " link set " + port + " master br0 up");
    must("ip -n " + ns + " addr add " + a4.str() + "/24 dev eth0");
    must("ip -n " + ns + " addr add " + a6.str() + "/64 dev eth0 nodad");
    must("ip -n " + ns + " link set eth0 up");
    return port;
  }

  void build_node(NpNode& n) {
    add_ns(n.ns);
    plumb_node(n.ns, n.router4, n.router6, n.cidr4.str(), n.cidr6.str());
    n.ul_port = attach_to_bridge(n.ns, n.ip4, n.ip6);
    add_ns(n.pod.ns);
    plumb_pod(n.ns, n.pod, n.router4, n.router6, kPodMtu);
  }

  // A client outside the cluster. Its device computes checksums in
  // software, as frames from a real NIC arrive complete: an XDP program
  // cannot see a checksum left to offload (CHECKSUM_PARTIAL) on a veth.
  void build_world() {
    add_ns(world_);
    must("ip -n " + world_ + " link set lo up");
    attach_to_bridge(world_, world4_, world6_);
    run_in_netns(world_, [] {
      int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      ethtool_value v{ETHTOOL_STXCSUM, 0};
      ifreq ifr{};
      std::strncpy(ifr.ifr_name, "eth0", IFNAMSIZ - 1);
      ifr.ifr_data = reinterpret_cast<char*>(&v);
      int rc = ::ioctl(s, SIOCETHTOOL, &ifr);
      int e = errno;
      ::close(s);
      if (rc != 0) throw std::runtime_error(std::string("ETHTOOL_STXCSUM off: ") + std::strerror(e));
    });
  }

  static cpp_ipcache_value remote(uint32_t id, const IpAddr& node) {
    cpp_ipcache_value v{};
    v.sec_identity = id;
    std::memcpy(&v.tunnel_endpoint, node.bytes.data(), 4);
    return v;
  }

  static datapath::NodeConsts consts(const NpNode& n) {
    datapath::NodeConsts c;
    c.router_ipv4 = n.router4;
    c.router_ipv6 = n.router6;
    c.encap_ifindex = n.vxlan_ifindex;
    c.lb.enabled = true;
    return c;
  }

  // What the agent does on a node (without the services): maps,
  // cilium_vxlan, host / overlay / pod programs, endpoint and ipcache entries.
  void load_datapath(NpNode& n) {
    n.pin = std::make_unique<TestPinDir>();
    run_in_netns(n.ns, [&] {
      datapath::Loader loader(n.pin->path());
      datapath::LbConsts lb;
      lb.enabled = true;
      loader.ensure_maps(lb);
      Netlink nl;
      n.vxlan_ifindex = agent::ensure_vxlan_device(nl).ifindex;
      n.eth0_ifindex = static_cast<int>(if_nametoindex("eth0"));
      auto c = consts(n);
      loader.load_host_program(c, static_cast<int>(if_nametoindex("cilium_host")));
      loader.load_overlay_program(c, n.vxlan_ifindex);
      n.pod.lxc_ifindex = static_cast<int>(if_nametoindex(n.pod.lxc.c_str()));
      loader.load_lxc_program(c, ep_consts(n.pod), n.pod.lxc_ifindex);
    });
    datapath::EndpointMap eps(n.pin->path());
    cpp_endpoint_info host{};
    host.flags = CPP_EP_F_HOST;
    eps.upsert(n.router4, host);
    eps.upsert(n.router6, host);
    eps.upsert(n.pod.ip4, ep_info(n.pod));
    eps.upsert(n.pod.ip6, ep_info(n.pod));
    datapath::IpcacheMap ic(n.pin->path());
    cpp_ipcache_value self{};
    self.sec_identity = n.pod.identity;
    ic.upsert(IpPrefix{n.pod.ip4, 32}, self);
    ic.upsert(IpPrefix{n.pod.ip6, 128}, self);
  }

  // Node 2's entry for node 1's addresses: with a tunnel endpoint its pod
  // answers node 1 through the tunnel (bpf_overlay on node 1 takes them),
  // without one over the underlay (bpf_netdev on node 1).
  void answers_through_tunnel(bool tunnel) {
    datapath::IpcacheMap ic2(n2_.pin->path());
    for (const auto& a : {n1_.ip4, n1_.ip6}) {
      cpp_ipcache_value v = remote(CPP_ID_REMOTE_NODE, n1_.ip4);
      if (!tunnel) v.tunnel_endpoint = 0;
      ic2.upsert(IpPrefix{a, a.bits()}, v);
    }
  }

  void add_backend(datapath::PinnedMap& be, uint32_t id, const IpAddr& a, uint8_t proto) {
    cpp_lb_backend b{};
    std::memcpy(&b.addr, a.bytes.data(), a.v6 ? 16 : 4);
    b.port = htons(kBackendPort);
    b.proto = proto;
    b.family = a.v6 ? CPP_FAMILY_IPV6 : CPP_FAMILY_IPV4;
    be.update(&id, &b);
  }
  void add_service(datapath::PinnedMap& svc, const IpAddr& fe, uint16_t port, uint8_t proto, uint16_t id,
                   std::optional<uint32_t> backend) {
    cpp_lb_key k{};
    std::memcpy(&k.addr, fe.bytes.data(), fe.v6 ? 16 : 4);
    k.dport = htons(port);
    k.proto = proto;
    k.scope = CPP_LB_SCOPE_EXT;
    k.family = fe.v6 ? CPP_FAMILY_IPV6 : CPP_FAMILY_IPV4;
    cpp_lb_svc_value v{};
    if (backend) {
      k.slot = 1;
      v.backend_id = *backend;
      svc.update(&k, &v);
      v = {};
      k.slot = 0;
    }
    v.count = backend ? 1 : 0;
    v.svc_id = id;
    v.flags = CPP_LB_F_NODEPORT;
    svc.update(&k, &v);
  }
  void add_services() {
    const std::string& pin = n1_.pin->path();
    datapath::PinnedMap svc(pin + "/" CPP_MAP_LB_SVC, sizeof(cpp_lb_key), sizeof(cpp_lb_svc_value));
    datapath::PinnedMap be(pin + "/" CPP_MAP_LB_BACKENDS, sizeof(uint32_t), sizeof(cpp_lb_backend));
    uint32_t id = 1;
    uint16_t svc_id = 1;
    for (uint8_t proto : {kTcp, kUdp}) {
      for (bool v6 : {false, true}) {
        const IpAddr& fe = v6 ? n1_.ip6 : n1_.ip4;
        uint32_t local = id++, far = id++;
        add_backend(be, local, v6 ? n1_.pod.ip6 : n1_.pod.ip4, proto);
        add_backend(be, far, v6 ? n2_.pod.ip6 : n2_.pod.ip4, proto);
        add_service(svc, fe, kPortLocal, proto, svc_id++, local);
        add_service(svc, fe, kPortRemote, proto, svc_id++, far);
        add_service(svc, fe, kPortEmpty, proto, svc_id++, std::nullopt);
      }
    }
  }

  // bpf_netdev on node 1's eth0, both directions. encap_ifindex 0 takes
  // the tunnel away from tc (the XDP cases prove XDP forwards).
  void load_netdev(int encap_ifindex, bool lb = true) {
    run_in_netns(n1_.ns, [&] {
      bpf_object_open_opts o{};
      o.sz = sizeof(o);
      o.pin_root_path = n1_.pin->path().c_str();
      std::unique_ptr<bpf_netdev, SkelDeleter<bpf_netdev>> s(bpf_netdev::open(&o));
      ASSERT_TRUE(s);
      configure(s->rodata, encap_ifindex);
      s->rodata->ENABLE_LB = lb ? 1 : 0;
      ASSERT_EQ(bpf_netdev::load(s.get()), 0);
      datapath::tc_attach(n1_.eth0_ifindex, datapath::TcDir::Ingress, bpf_program__fd(s->progs.cil_from_netdev),
                          "cil_from_netdev");
      datapath::tc_attach(n1_.eth0_ifindex, datapath::TcDir::Egress, bpf_program__fd(s->progs.cil_to_netdev),
                          "cil_to_netdev");
    });
  }

  template <typename Ro>
  void configure(Ro* ro, int encap_ifindex) {
    ro->ENABLE_IPV4 = 1;
    ro->ENABLE_IPV6 = 1;
    std::memcpy(&ro->ROUTER_IPV4, n1_.router4.bytes.data(), 4);
    std::memcpy(ro->ROUTER_IPV6, n1_.router6.bytes.data(), 16);
    std::memcpy(&ro->NAT_IPV4, n1_.ip4.bytes.data(), 4);
    std::memcpy(ro->NAT_IPV6, n1_.ip6.bytes.data(), 16);
    ro->ENCAP_IFINDEX = static_cast<uint32_t>(encap_ifindex);
    ro->ENABLE_LB = 1;
    ro->LB_NO_BACKEND_REJECT = 1;
  }

  // cil_xdp_entry on node 1's eth0 in native mode; its bridge-side peer
  // gets an XDP program too (bpf_xdp with LB off: XDP_PASS), which veth
  // needs to receive the frames XDP_TX sends back to it.
  void attach_xdp() {
    load_xdp(n1_.ns, n1_.eth0_ifindex, true);
    int peer = 0;
    run_in_netns(ul_, [&] { peer = static_cast<int>(if_nametoindex(n1_.ul_port.c_str())); });
    load_xdp(ul_, peer, false);
  }
  void load_xdp(const std::string& ns, int ifindex, bool lb) {
    run_in_netns(ns, [&] {
      bpf_object_open_opts o{};
      o.sz = sizeof(o);
      o.pin_root_path = n1_.pin->path().c_str();
      std::unique_ptr<bpf_xdp, SkelDeleter<bpf_xdp>> s(bpf_xdp::open(&o));
      ASSERT_TRUE(s);
      configure(s->rodata, n1_.vxlan_ifindex);
      s->rodata->ENABLE_LB = lb ? 1 : 0;
      ASSERT_EQ(bpf_xdp::load(s.get()), 0);
      ASSERT_EQ(bpf_xdp_attach(ifindex, bpf_program__fd(s->progs.cil_xdp_entry), XDP_FLAGS_DRV_MODE, nullptr), 0)
          << "native XDP on " << ifindex;
    });
  }

  // Dual-stack servers in both pods (IPv4 peers show as ::ffff:a.b.c.d),
  // and one of node 1 itself on the port of the frontend without
  // backends: only the datapath's answer can refuse a connection there
  // (the kernel would otherwise accept it or answer UDP).
  void start_servers() {
    for (bool udp : {false, true}) {
      for (const auto* n : {&n1_, &n2_})
        servers_.push_back(std::make_unique<SocketServer>(
            bound_socket(n->pod.ns, ip("::"), kBackendPort, udp),
            [udp](int f, int stop) { serve_peer_address(f, stop, udp); }));
      servers_.push_back(std::make_unique<SocketServer>(
          bound_socket(n1_.ns, ip("::"), kPortEmpty, udp),
          [udp](int f, int stop) { serve_peer_address(f, stop, udp); }));
    }
  }

  // Retries for a while: the first exchanges race neighbour resolution.
  Exchange eventually(const IpAddr& fe, uint16_t port, bool udp, const std::string& want) {
    Exchange ex;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    do {
      ex = exchange(world_, fe, port, udp);
      if (ex.err == 0 && ex.seen == want) return ex;
    } while (std::chrono::steady_clock::now() < deadline);
    return ex;
  }
  Exchange eventually_refused(const IpAddr& fe, uint16_t port, bool udp) {
    Exchange ex;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    do {
      ex = exchange(world_, fe, port, udp);
      if (ex.err == ECONNREFUSED) return ex;
    } while (std::chrono::steady_clock::now() < deadline);
    return ex;
  }

  void expect_refused();

  void expect_all_paths(const std::string& what) {
    for (bool udp : {false, true}) {
      for (bool v6 : {false, true}) {
        SCOPED_TRACE(what + (udp ? " UDP" : " TCP") + (v6 ? " IPv6" : " IPv4"));
        const IpAddr& fe = v6 ? n1_.ip6 : n1_.ip4;
        const IpAddr& client = v6 ? world6_ : world4_;
        auto l = eventually(fe, kPortLocal, udp, client.str());
        EXPECT_EQ(l.err, 0) << std::strerror(l.err);
        EXPECT_EQ(l.seen, client.str()) << "local backend sees the client";
        auto r = eventually(fe, kPortRemote, udp, fe.str());
        EXPECT_EQ(r.err, 0) << std::strerror(r.err);
        EXPECT_EQ(r.seen, fe.str()) << "remote backend sees node 1 (SNAT)";
      }
    }
  }

  std::string prefix_, ul_, world_;
  IpAddr world4_ = ip("192.0.2.100"), world6_ = ip("fd00:aa::100");
  NpNode n1_, n2_;
  std::vector<std::string> created_;
  std::vector<std::unique_ptr<SocketServer>> servers_;
};

TEST_F(NodeportNetnsTest, TcLocalAndRemoteBackendsAnswerTheWorld) {
  expect_all_paths("answers via tunnel");
  answers_through_tunnel(false);
  expect_all_paths("answers via underlay");
}

TEST_F(NodeportNetnsTest, NoBackendIsRefused) { expect_refused(); }

TEST_F(NodeportNetnsTest, NoBackendIsRefusedByXdp) {
  // tc without LB: only the XDP program can answer.
  load_netdev(0, /*lb=*/false);
  attach_xdp();
  expect_refused();
}

void NodeportNetnsTest::expect_refused() {
  for (bool udp : {false, true}) {
    for (const auto* fe : {&n1_.ip4, &n1_.ip6}) {
      SCOPED_TRACE(std::string(udp ? "UDP " : "TCP ") + fe->str());
      auto ex = eventually_refused(*fe, kPortEmpty, udp);
      EXPECT_EQ(ex.err, ECONNREFUSED) << std::strerror(ex.err);
    }
  }
}

TEST_F(NodeportNetnsTest, XdpForwardsLocalAndRemoteBackends) {
  // Node 1 knows node 2's MAC before the first request (XDP leaves a
  // request without a resolved next hop to tc, which has no tunnel here).
  must(in_ns(n1_.ns) + "ping -4 -n -c 1 -W 2 " + n2_.ip4.str());
  load_netdev(0);
  attach_xdp();
  expect_all_paths("XDP, answers via tunnel");
  answers_through_tunnel(false);
  expect_all_paths("XDP, answers via underlay");
}

}  // namespace
}  // namespace cpp::bpftest
