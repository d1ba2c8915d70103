// Two nodes over real kernel VXLAN (tunnel routing mode), built out of
// network namespaces: an underlay namespace holding bridge br0, nodes A and
// B joined to it by veths (192.0.2.1 / 192.0.2.2, MTU 1500), pods A1
// (identity X) and A2 (identity Y) on node A and B1 on node B, pod MTU 1450.
// Each node runs the real Loader (bpf_host with encapsulation, bpf_overlay
// on cilium_vxlan, bpf_lxc per pod) and the agent's OverlaySubsystem, fed
// CiliumNode / CiliumEndpoint objects through a shared DirectoryStore, as
// the agents of a lab are. Pings and TCP across nodes over IPv4 and IPv6,
// full-size packets without fragmentation, an ingress policy on node B that
// tells X from Y by the VNI, and removal of a node's objects.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fcntl.h>

#include <chrono>
#include <sstream>
#include <cstring>
#include <filesystem>
#include <memory>
#include <thread>

#include "agent/ipcache_owners.h"
#include "agent/overlay_subsystem.h"
#include "agent/vxlan_device.h"
#include "datapath/endpoint_map.h"
#include "datapath/loader.h"
#include "datapath/policy_map.h"
#include "netlink/rtnl.h"
#include "netns_fixture.h"
#include "store/store.h"
#include "test_util.h"

namespace cpp::bpftest {
namespace {

using agent::IpcacheClaim;
using agent::IpcacheSource;
using nlohmann::json;

constexpr int kPodMtu = 1450;
constexpr uint16_t kPort = 8080;

struct OvNode {
  std::string name, ns;
  IpAddr node_ip, router4, router6;
  IpPrefix cidr4, cidr6;
  std::vector<Pod> pods;
  std::unique_ptr<TestPinDir> pin;
  std::unique_ptr<agent::IpcacheWriter> ipcache;
  std::unique_ptr<Netlink> nl;
  std::unique_ptr<agent::OverlaySubsystem> overlay;
  int vxlan_ifindex = 0;
};

// Sends `total` bytes of a known pattern from a pod to a sink in another
// pod and returns how many bytes arrived intact; -1 if no connection.
// Sockets are created inside the pods' namespaces, used from here.
long tcp_transfer(const std::string& from_ns, const std::string& to_ns, const IpAddr& dst, size_t total,
                  int connect_timeout_ms) {
  int lfd = bound_socket(to_ns, dst.v6 ? ip("::") : ip("0.0.0.0"), kPort, false, 4);
  int cfd = -1;
  run_in_netns(from_ns, [&] { cfd = ::socket(dst.v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0); });
  auto pattern = [](size_t i) { return static_cast<char>('a' + (i * 7 + i / 1400) % 26); };
  long received = 0;
  bool intact = true;
  std::thread sink([&] {
    pollfd p{lfd, POLLIN, 0};
    if (::poll(&p, 1, connect_timeout_ms + 1000) != 1) return;
    int s = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    if (s < 0) return;
    timeval tv{10, 0};
    ::setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char buf[65536];
    for (;;) {
      ssize_t n = ::recv(s, buf, sizeof(buf), 0);
      if (n <= 0) break;
      for (ssize_t i = 0; i < n; ++i) intact = intact && buf[i] == pattern(static_cast<size_t>(received + i));
      received += n;
    }
    ::close(s);
  });
  socklen_t len;
  auto sa = sockaddr_of(dst, kPort, len);
  bool connected = false;
  if (::connect(cfd, reinterpret_cast<sockaddr*>(&sa), len) == 0) {
    connected = true;
  } else if (errno == EINPROGRESS) {
    pollfd p{cfd, POLLOUT, 0};
    int err = 0;
    socklen_t el = sizeof(err);
    connected = ::poll(&p, 1, connect_timeout_ms) == 1 && ::getsockopt(cfd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 &&
                err == 0;
  }
  if (connected) {
    int flags = 0;
    ::fcntl(cfd, F_SETFL, flags);
    timeval tv{10, 0};
    ::setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    std::string chunk;
    for (size_t off = 0; off < total;) {
      size_t n = std::min<size_t>(1400, total - off);  // 1400-byte writes
      chunk.resize(n);
      for (size_t i = 0; i < n; ++i) chunk[i] = pattern(off + i);
      ssize_t w = ::send(cfd, chunk.data(), n, MSG_NOSIGNAL);
      if (w <= 0) break;
      off += static_cast<size_t>(w);
      if (static_cast<size_t>(w) < n) continue;
    }
  }
  ::close(cfd);
  sink.join();
  ::close(lfd);
  if (!connected) return -1;
  return intact ? received : -2;
}

// A counter from /proc/net/snmp or /proc/net/snmp6 of a namespace.
long snmp(const std::string& ns, const std::string& file, const std::string& proto, const std::string& field) {
  auto out = must(in_ns(ns) + "cat /proc/net/" + file);
  if (file == "snmp6") {
    std::istringstream in(out);
    std::string k;
    long v;
    while (in >> k >> v)
      if (k == field) return v;
    return -1;
  }
  std::istringstream in(out);
  std::string names, values;
  while (std::getline(in, names) && std::getline(in, values)) {
    if (names.rfind(proto + ":", 0) != 0) continue;
    std::istringstream n(names), v(values);
    std::string k, x;
    while (n >> k && v >> x)
      if (k == field) return std::stol(x);
  }
  return -1;
}

class OverlayNetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    prefix_ = "cpp-ovl-" + std::to_string(::getpid()) + "-" + random_suffix();
    store_dir_ = "/tmp/" + prefix_ + "-store";
    std::filesystem::create_directories(store_dir_);
    store_ = std::make_unique<store::DirectoryStore>(store_dir_, std::chrono::milliseconds(50));
    ul_ = prefix_ + "-ul";
    add_ns(ul_);
    must("ip -n " + ul_ + " link add br0 type bridge && ip -n " + ul_ + " link set br0 up");

    a_.name = "node-a";
    a_.ns = prefix_ + "-a";
    a_.node_ip = ip("192.0.2.1");
    a_.router4 = ip("10.233.64.1");
    a_.router6 = ip("fd00:cafe::1");
    a_.cidr4 = *IpPrefix::parse("10.233.64.0/24");
    a_.cidr6 = *IpPrefix::parse("fd00:cafe::/64");
    a_.pods = {Pod{prefix_ + "-a1", "lxca1", ip("10.233.64.10"), ip("fd00:cafe::10"), MacAddr{2, 0, 0, 0, 0xa1, 2},
                   MacAddr{2, 0, 0, 0, 0xa1, 1}, 101, kIdX},
               Pod{prefix_ + "-a2", "lxca2", ip("10.233.64.20"), ip("fd00:cafe::20"), MacAddr{2, 0, 0, 0, 0xa2, 2},
                   MacAddr{2, 0, 0, 0, 0xa2, 1}, 102, kIdY}};
    b_.name = "node-b";
    b_.ns = prefix_ + "-b";
    b_.node_ip = ip("192.0.2.2");
    b_.router4 = ip("10.233.65.1");
    b_.router6 = ip("fd00:cafe:1::1");
    b_.cidr4 = *IpPrefix::parse("10.233.65.0/24");
    b_.cidr6 = *IpPrefix::parse("fd00:cafe:1::/64");
    b_.pods = {Pod{prefix_ + "-b1", "lxcb1", ip("10.233.65.10"), ip("fd00:cafe:1::10"), MacAddr{2, 0, 0, 0, 0xb1, 2},
                   MacAddr{2, 0, 0, 0, 0xb1, 1}, 201, kIdB}};
    for (auto* n : {&a_, &b_}) {
      build_node(*n);
      for (auto& p : n->pods) build_pod(*n, p);
      load_datapath(*n);
    }
    for (auto* n : {&a_, &b_}) publish(*n);
    for (auto* n : {&a_, &b_}) start_overlay(*n);
  }

  void TearDown() override {
    for (auto* n : {&a_, &b_}) {
      if (n->overlay) n->overlay->stop();
      n->overlay.reset();
      n->nl.reset();
      n->ipcache.reset();
    }
    for (auto it = created_.rbegin(); it != created_.rend(); ++it) sh("ip netns del " + *it);
    std::error_code ec;
    std::filesystem::remove_all(store_dir_, ec);
    for (auto* n : {&a_, &b_}) n->pin.reset();
  }

  void add_ns(const std::string& ns) {
    must("ip netns add " + ns);
    created_.push_back(ns);
  }

  void build_node(OvNode& n) {
    add_ns(n.ns);
    plumb_node(n.ns, n.router4, n.router6, n.cidr4.str(), n.cidr6.str());
    const std::string ip_n = "ip -n " + n.ns + " ";
    std::string port = "p" + n.name.substr(5) + random_suffix().substr(0, 6);
    must("ip -n " + ul_ + " link add " + port + " type veth peer name eth0 netns " + n.ns);
    must("ip -n " + ul_ + " link set " + port + " master br0 up");
    must(ip_n + "addr add " + n.node_ip.str() + "/24 dev eth0");
    must(ip_n + "link set eth0 up");
  }

  void build_pod(const OvNode& n, Pod& p) {
    add_ns(p.ns);
    plumb_pod(n.ns, p, n.router4, n.router6, kPodMtu);
  }

  // What the agent does on a node: maps, cilium_vxlan, programs, map entries.
  void load_datapath(OvNode& n) {
    n.pin = std::make_unique<TestPinDir>();
    datapath::NodeConsts c;
    c.router_ipv4 = n.router4;
    c.router_ipv6 = n.router6;
    run_in_netns(n.ns, [&] {
      datapath::Loader loader(n.pin->path());
      loader.ensure_maps();
      n.nl = std::make_unique<Netlink>();  // bound to this (the node's) namespace
      n.vxlan_ifindex = agent::ensure_vxlan_device(*n.nl).ifindex;
      c.encap_ifindex = n.vxlan_ifindex;
      loader.load_host_program(c, static_cast<int>(if_nametoindex("cilium_host")));
      loader.load_overlay_program(c, n.vxlan_ifindex);
      for (auto& p : n.pods) {
        p.lxc_ifindex = static_cast<int>(if_nametoindex(p.lxc.c_str()));
        loader.load_lxc_program(c, ep_consts(p), p.lxc_ifindex);
      }
    });
    datapath::EndpointMap eps(n.pin->path());
    cpp_endpoint_info host{};
    host.flags = CPP_EP_F_HOST;
    eps.upsert(n.router4, host);
    eps.upsert(n.router6, host);
    n.ipcache = std::make_unique<agent::IpcacheWriter>(n.pin->path());
    for (const auto& a : {n.router4, n.router6, n.node_ip})
      n.ipcache->claim(IpPrefix{a, a.bits()}, IpcacheSource::Host, IpcacheClaim{CPP_ID_HOST, std::nullopt});
    for (const auto& p : n.pods) {
      eps.upsert(p.ip4, ep_info(p));
      eps.upsert(p.ip6, ep_info(p));
      for (const auto& a : {p.ip4, p.ip6})
        n.ipcache->claim(IpPrefix{a, a.bits()}, IpcacheSource::Endpoint, IpcacheClaim{p.identity, std::nullopt});
    }
  }

  json node_object(const OvNode& n) const {
    return {{"apiVersion", "cilium.io/v2"},
            {"kind", "CiliumNode"},
            {"metadata", {{"name", n.name}}},
            {"spec",
             {{"addresses", json::array({{{"type", "InternalIP"}, {"ip", n.node_ip.str()}},
                                         {{"type", "CiliumInternalIP"}, {"ip", n.router4.str()}},
                                         {{"type", "CiliumInternalIP"}, {"ip", n.router6.str()}}})},
              {"ipam", {{"podCIDRs", json::array({n.cidr4.str(), n.cidr6.str()})}}}}}};
  }
  static json cep_object(const OvNode& n, const Pod& p) {
    return {{"apiVersion", "cilium.io/v2"},
            {"kind", "CiliumEndpoint"},
            {"metadata", {{"name", p.lxc}, {"namespace", "default"}}},
            {"status",
             {{"id", p.id},
              {"identity", {{"id", p.identity}}},
              {"networking",
               {{"addressing", json::array({{{"ipv4", p.ip4.str()}, {"ipv6", p.ip6.str()}}})},
                {"node", n.node_ip.str()}}}}}};
  }
  void publish(const OvNode& n) {
    store_->put(node_object(n));
    for (const auto& p : n.pods) store_->put(cep_object(n, p));
  }

  void start_overlay(OvNode& n) {
    agent::OverlaySubsystem::Options o;
    o.self.node_name = n.name;
    o.self.node_ips = {n.node_ip};
    o.self.pod_cidrs = {n.cidr4, n.cidr6};
    o.router4 = n.router4;
    o.router6 = n.router6;
    o.mtu = kPodMtu;
    n.overlay = std::make_unique<agent::OverlaySubsystem>(*store_, *n.ipcache, *n.nl, o);
    n.overlay->start();
  }

  void set_flags(OvNode& n, Pod& p, uint32_t flags) {
    p.flags = flags;
    datapath::EndpointMap eps(n.pin->path());
    eps.upsert(p.ip4, ep_info(p));
    eps.upsert(p.ip6, ep_info(p));
  }

  CmdResult ping(const std::string& from, const IpAddr& dst, const std::string& extra = "") {
    CmdResult r;
    for (int attempt = 0; attempt < 5; ++attempt) {
      r = sh(in_ns(from) + "ping " + (dst.v6 ? "-6 " : "-4 ") + extra + " -n -c 1 -W 2 " + dst.str());
      if (r.status == 0) break;
    }
    return r;
  }
  bool ping_fails(const std::string& from, const IpAddr& dst) {
    return sh(in_ns(from) + "ping " + (dst.v6 ? "-6 " : "-4 ") + "-n -c 2 -i 0.2 -W 1 " + dst.str()).status != 0;
  }
  template <typename F>
  bool eventually(F cond, int timeout_ms = 10000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      if (cond()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return cond();
  }

  static constexpr uint32_t kIdX = 1001, kIdY = 1002, kIdB = 2001;
  std::string prefix_, ul_, store_dir_;
  std::unique_ptr<store::DirectoryStore> store_;
  OvNode a_, b_;
  std::vector<std::string> created_;
};

TEST_F(OverlayNetnsTest, DeviceIsExternalVxlanOnPort8472WithoutLearning) {
  auto out = must("ip -n " + a_.ns + " -d link show cilium_vxlan");
  EXPECT_NE(out.find("vxlan external"), std::string::npos) << out;
  EXPECT_NE(out.find("dstport 8472"), std::string::npos) << out;
  EXPECT_NE(out.find("nolearning"), std::string::npos) << out;
  // Idempotent: a second ensure keeps the device (and so its ifindex, which
  // the loaded programs carry).
  int again = 0;
  run_in_netns(a_.ns, [&] {
    Netlink nl;
    again = agent::ensure_vxlan_device(nl).ifindex;
  });
  EXPECT_EQ(again, a_.vxlan_ifindex);
}

TEST_F(OverlayNetnsTest, SubsystemInstallsRoutesAndTunnelEntries) {
  auto routes = must("ip -n " + a_.ns + " route show dev cilium_host");
  EXPECT_NE(routes.find("10.233.65.0/24 via 10.233.64.1"), std::string::npos) << routes;
  EXPECT_NE(routes.find("mtu 1450"), std::string::npos) << routes;
  auto routes6 = must("ip -n " + a_.ns + " -6 route show dev cilium_host");
  EXPECT_NE(routes6.find("fd00:cafe:1::/64"), std::string::npos) << routes6;
  auto e = a_.ipcache->current(IpPrefix{b_.pods[0].ip4, 32});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->identity, kIdB);
  EXPECT_EQ(e->tunnel, b_.node_ip);
  e = a_.ipcache->current(IpPrefix{b_.node_ip, 32});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->identity, uint32_t{CPP_ID_REMOTE_NODE});
  EXPECT_FALSE(e->tunnel);
}

TEST_F(OverlayNetnsTest, PodsPingAcrossNodesOverIpv4AndIpv6) {
  const auto& a1 = a_.pods[0];
  const auto& b1 = b_.pods[0];
  for (const auto& [from, to] : {std::pair{a1.ns, b1.ip4}, std::pair{a1.ns, b1.ip6}, std::pair{b1.ns, a1.ip4},
                                 std::pair{b1.ns, a1.ip6}}) {
    auto r = ping(from, to);
    EXPECT_EQ(r.status, 0) << from << " -> " << to.str() << "\n" << r.output;
  }
  // The node's own traffic to a remote pod (via cilium_host into the tunnel)
  // and a pod to the remote router IP.
  for (const auto& to : {b1.ip4, b1.ip6}) {
    auto r = ping(a_.ns, to);
    EXPECT_EQ(r.status, 0) << "node A -> " << to.str() << "\n" << r.output;
  }
  for (const auto& to : {b_.router4, b_.router6}) {
    auto r = ping(a1.ns, to);
    EXPECT_EQ(r.status, 0) << "pod A1 -> node B router " << to.str() << "\n" << r.output;
  }
}

TEST_F(OverlayNetnsTest, FullSizePacketsCrossWithoutFragmentation) {
  const auto& a1 = a_.pods[0];
  const auto& b1 = b_.pods[0];
  long frag4 = snmp(a_.ns, "snmp", "Ip", "FragCreates"), frag6 = snmp(a_.ns, "snmp6", "", "Ip6FragCreates");
  long reasm4 = snmp(b_.ns, "snmp", "Ip", "ReasmReqds"), reasm6 = snmp(b_.ns, "snmp6", "", "Ip6ReasmReqds");
  // 1400 bytes of payload with DF: 1428 (IPv4) / 1448 (IPv6) on the pod
  // link, 1478 / 1498 on the underlay.
  auto r = ping(a1.ns, b1.ip4, "-s 1400 -M do");
  EXPECT_EQ(r.status, 0) << r.output;
  r = ping(a1.ns, b1.ip6, "-s 1400 -M do");
  EXPECT_EQ(r.status, 0) << r.output;
  r = ping(a1.ns, b1.ip4, "-s 1422 -M do");
  EXPECT_EQ(r.status, 0) << "exactly the pod MTU\n" << r.output;
  for (const auto& dst : {b1.ip4, b1.ip6}) {
    long got = tcp_transfer(a1.ns, b1.ns, dst, 4 << 20, 3000);
    EXPECT_EQ(got, 4l << 20) << "4 MiB in 1400-byte writes to " << dst.str();
  }
  EXPECT_EQ(snmp(a_.ns, "snmp", "Ip", "FragCreates"), frag4) << "the sender's node fragmented";
  EXPECT_EQ(snmp(a_.ns, "snmp6", "", "Ip6FragCreates"), frag6);
  EXPECT_EQ(snmp(b_.ns, "snmp", "Ip", "ReasmReqds"), reasm4) << "the receiver's node reassembled";
  EXPECT_EQ(snmp(b_.ns, "snmp6", "", "Ip6ReasmReqds"), reasm6);
}

TEST_F(OverlayNetnsTest, IngressPolicyOnTheReceiverUsesTheVniIdentity) {
  auto& a1 = a_.pods[0];  // identity X
  auto& a2 = a_.pods[1];  // identity Y
  auto& b1 = b_.pods[0];
  datapath::PolicyMap policy(b_.pin->path());
  set_flags(b_, b1, CPP_EP_F_ENFORCE_INGRESS);
  policy.upsert(datapath::PolicyKey{b1.id, CPP_DIR_INGRESS, IPPROTO_TCP, kIdX, kPort}, datapath::PolicyEntry{false, 0, 1});
  policy.upsert(datapath::PolicyKey{b1.id, CPP_DIR_INGRESS, IPPROTO_ICMP, kIdX, 8}, datapath::PolicyEntry{false, 0, 1});
  policy.upsert(datapath::PolicyKey{b1.id, CPP_DIR_INGRESS, IPPROTO_ICMPV6, kIdX, 128}, datapath::PolicyEntry{false, 0, 1});
  // Node B's ipcache says nothing about A1/A2 by address that could help:
  // their entries exist (CiliumEndpoint) but the VNI is what is used.
  for (const auto& dst : {b1.ip4, b1.ip6}) {
    EXPECT_EQ(tcp_transfer(a1.ns, b1.ns, dst, 100000, 3000), 100000) << "X allowed to " << dst.str();
    EXPECT_EQ(tcp_transfer(a2.ns, b1.ns, dst, 1000, 1500), -1) << "Y denied to " << dst.str();
    auto r = ping(a1.ns, dst);
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_TRUE(ping_fails(a2.ns, dst)) << dst.str();
  }
  // Relabel A2 as X in node B's view by address only: still denied, the
  // VNI carries Y.
  store_->remove("CiliumEndpoint", "default", a2.lxc);
  b_.ipcache->claim(IpPrefix{a2.ip4, 32}, IpcacheSource::Cidr, IpcacheClaim{kIdX, a_.node_ip});
  EXPECT_EQ(tcp_transfer(a2.ns, b1.ns, b1.ip4, 1000, 1500), -1);
}

TEST_F(OverlayNetnsTest, RemovingANodeAndAnEndpointRemovesTheirEntriesAndRoutes) {
  const auto& a1 = a_.pods[0];
  const auto& b1 = b_.pods[0];
  ASSERT_EQ(ping(a1.ns, b1.ip4).status, 0);
  store_->remove("CiliumEndpoint", "default", b1.lxc);
  ASSERT_TRUE(eventually([&] { return a_.ipcache->current(IpPrefix{b1.ip4, 32}) == std::nullopt; }));
  EXPECT_EQ(ping(a1.ns, b1.ip4).status, 0) << "the PodCIDR's tunnel route still reaches it";
  store_->remove("CiliumNode", "", b_.name);
  ASSERT_TRUE(eventually([&] {
    return must("ip -n " + a_.ns + " route show dev cilium_host").find("10.233.65.0/24") == std::string::npos;
  }));
  EXPECT_FALSE(a_.ipcache->current(*IpPrefix::parse("10.233.65.0/24")));
  EXPECT_FALSE(a_.ipcache->current(IpPrefix{b_.node_ip, 32}));
  EXPECT_TRUE(ping_fails(a1.ns, b1.ip4));
  store_->put(node_object(b_));
  ASSERT_TRUE(eventually([&] { return a_.ipcache->current(*IpPrefix::parse("10.233.65.0/24")).has_value(); }));
  EXPECT_EQ(ping(a1.ns, b1.ip4).status, 0) << "back when the node is";
}

}  // namespace
}  // namespace cpp::bpftest
