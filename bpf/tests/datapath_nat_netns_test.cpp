// Masquerading end to end in network namespaces. The node and its two pods
// of netns_fixture.h, plus an underlay namespace with a bridge, the node's
// native device `eth0` on it (192.0.2.1, 2001:db8::1) and a "world"
// namespace on the same bridge (192.0.2.100, 2001:db8::100) that serves on
// 203.0.113.7 / 2001:db8:ffff::7 and has no route to the pods: a pod
// reaches it only when its traffic is masqueraded to the node's address.
// bpf_netdev is attached by the real Loader; the servers in the world
// report the peer address they see.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <optional>

#include "datapath/nat_consts.h"
#include "datapath/nat_map.h"
#include "netns_fixture.h"

namespace cpp::bpftest {
namespace {

// "addr port" of a socket address.
std::string peer_str(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET6) {
    auto* s6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    ::inet_ntop(AF_INET6, &s6->sin6_addr, buf, sizeof(buf));
    return std::string(buf) + " " + std::to_string(ntohs(s6->sin6_port));
  }
  auto* s4 = reinterpret_cast<const sockaddr_in*>(&ss);
  ::inet_ntop(AF_INET, &s4->sin_addr, buf, sizeof(buf));
  return std::string(buf) + " " + std::to_string(ntohs(s4->sin_port));
}

// A server on addr:port that answers every TCP connection / UDP datagram
// with the peer address and port it sees ("addr port"). Bound to its
// address, so UDP answers leave from it (a wildcard socket would answer
// from the outgoing device's address). Its socket is created inside `ns`;
// the serving thread never changes namespace.
class PeerServer {
 public:
  PeerServer(const std::string& ns, const IpAddr& addr, bool udp, uint16_t port)
      : server_(bound_socket(ns, addr, port, udp), [udp](int fd, int stop_fd) { serve(fd, stop_fd, udp); }) {}

 private:
  static void serve(int fd, int stop_fd, bool udp) {
    pollfd fds[2] = {{stop_fd, POLLIN, 0}, {fd, POLLIN, 0}};
    for (;;) {
      if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
      if (fds[0].revents) return;
      if (!(fds[1].revents & POLLIN)) continue;
      sockaddr_storage peer{};
      socklen_t len = sizeof(peer);
      if (udp) {
        char buf[256];
        ssize_t n = ::recvfrom(fd, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&peer), &len);
        if (n < 0) continue;
        auto msg = peer_str(peer);
        ::sendto(fd, msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&peer), len);
      } else {
        int c = ::accept4(fd, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
        if (c < 0) continue;
        auto msg = peer_str(peer);
        ::send(c, msg.data(), msg.size(), MSG_NOSIGNAL);
        ::close(c);
      }
    }
  }

  SocketServer server_;
};

// Asks a PeerServer from inside `ns` (source port `sport`, 0 = any): the
// peer it saw, or nothing if no answer came.
std::optional<std::string> ask(const std::string& ns, const IpAddr& dst, uint16_t port, bool udp,
                               uint16_t sport = 0) {
  int fd = -1;
  run_in_netns(ns, [&] {
    fd = ::socket(dst.v6 ? AF_INET6 : AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
  });
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  timeval tv{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  timeval connect_tv{5, 0};  // SO_SNDTIMEO bounds connect(): room for neighbour discovery and a SYN retry
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &connect_tv, sizeof(connect_tv));
  socklen_t len;
  if (sport) {
    auto local = sockaddr_of(dst.v6 ? ip("::") : ip("0.0.0.0"), sport, len);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&local), len) != 0) {
      ::close(fd);
      throw std::runtime_error(std::string("bind source port: ") + std::strerror(errno));
    }
  }
  auto sa = sockaddr_of(dst, port, len);
  std::optional<std::string> out;
  // Connect (TCP retransmits its SYN itself; UDP is asked three times).
  for (int attempt = 0; attempt < (udp ? 3 : 1) && !out; ++attempt) {
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), len) != 0 && !udp) break;
    if (udp && ::send(fd, "?", 1, 0) != 1) continue;
    char buf[256];
    for (int waited = 0; waited < (udp ? 1 : 4) && !out; ++waited) {
      ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n > 0) out = std::string(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  return out;
}

class NatNetnsTest : public NetnsNodeTest {
 protected:
  void SetUp() override {
    NetnsNodeTest::SetUp();
    if (HasFatalFailure()) return;
    underlay_ = prefix_ + "-ul";
    world_ = prefix_ + "-world";
    add_ns(underlay_);
    add_ns(world_);
    const std::string u = "ip -n " + underlay_ + " ";
    must(u + "link add br0 type bridge");
    must(u + "link set br0 up");
    attach(node_, "n", node4_, node6_);
    attach(world_, "w", world_link4_, world_link6_);
    const std::string n = "ip -n " + node_ + " ";
    must(n + "route add default via " + world_link4_.str());
    must(n + "-6 route add default via " + world_link6_.str());
    const std::string w = "ip -n " + world_ + " ";
    must(w + "link set lo up");
    must(w + "addr add " + world4_.str() + "/32 dev lo");
    must(w + "addr add " + world6_.str() + "/128 dev lo");
    load_masquerade();
  }

  // A veth from ns (eth0) to the bridge (<tag>1), addressed on the underlay.
  void attach(const std::string& ns, const std::string& tag, const IpAddr& a4, const IpAddr& a6) {
    const std::string u = "ip -n " + underlay_ + " ";
    must(u + "link add " + tag + "1 type veth peer name eth0 netns " + ns);
    must(u + "link set " + tag + "1 master br0 up");
    const std::string q = "ip -n " + ns + " ";
    must(q + "addr add " + a4.str() + "/24 dev eth0");
    must(q + "addr add " + a6.str() + "/64 dev eth0 nodad");
    must(q + "link set eth0 up");
  }

  void load_masquerade() {
    datapath::NatConsts nat;
    nat.ipv4 = node4_;
    nat.ipv6 = node6_;
    run_in_netns(node_, [&] {
      eth0_ = static_cast<int>(if_nametoindex("eth0"));
      ASSERT_GT(eth0_, 0);
      Loader(pin_.path()).load_netdev_programs(node_consts(), nat, eth0_);
    });
  }

  // The world's view of a pod's connection: "addr port".
  static std::string addr_of(const std::string& seen) { return seen.substr(0, seen.find(' ')); }
  static int port_of(const std::string& seen) { return std::stoi(seen.substr(seen.find(' ') + 1)); }

  std::vector<datapath::NatEntry> nat_entries() { return datapath::NatMaps(pin_.path()).dump(false); }
  bool has_ingress_entry_for(const IpAddr& pod, uint8_t proto) {
    for (const auto& e : nat_entries())
      if (e.dir == CPP_NAT_INGRESS && e.to_addr == pod && e.nexthdr == proto) return true;
    return false;
  }

  std::string underlay_, world_;
  IpAddr node4_ = ip("192.0.2.1"), node6_ = ip("2001:db8::1");
  IpAddr world_link4_ = ip("192.0.2.100"), world_link6_ = ip("2001:db8::100");
  IpAddr world4_ = ip("203.0.113.7"), world6_ = ip("2001:db8:ffff::7");
  int eth0_ = 0;
};

TEST_F(NatNetnsTest, PodReachesTheWorldAsTheNodeTcpUdpPing) {
  for (const auto& [dst, node] : {std::pair{world4_, node4_}, std::pair{world6_, node6_}}) {
    SCOPED_TRACE(dst.str());
    PeerServer tcp(world_, dst, false, 8080);
    PeerServer udp(world_, dst, true, 5353);
    auto seen = ask(pods_[0].ns, dst, 8080, false);
    ASSERT_TRUE(seen) << "TCP pod -> world failed";
    EXPECT_EQ(addr_of(*seen), node.str()) << "the world must see the node's address";
    seen = ask(pods_[0].ns, dst, 5353, true);
    ASSERT_TRUE(seen) << "UDP pod -> world failed";
    EXPECT_EQ(addr_of(*seen), node.str());
    auto p = ping(pods_[0].ns, dst);
    EXPECT_EQ(p.status, 0) << p.output;
    EXPECT_TRUE(has_ingress_entry_for(dst.v6 ? pods_[0].ip6 : pods_[0].ip4, dst.v6 ? 58 : 1))
        << "no ICMP NAT entry for the ping";
  }
}

TEST_F(NatNetnsTest, TwoPodsWithTheSameSourcePortBothWork) {
  for (const auto& [dst, node] : {std::pair{world4_, node4_}, std::pair{world6_, node6_}}) {
    SCOPED_TRACE(dst.str());
    PeerServer tcp(world_, dst, false, 8080);
    PeerServer udp(world_, dst, true, 5353);
    for (bool is_udp : {false, true}) {
      uint16_t port = is_udp ? 5353 : 8080;
      auto a = ask(pods_[0].ns, dst, port, is_udp, 40000);
      auto b = ask(pods_[1].ns, dst, port, is_udp, 40000);
      ASSERT_TRUE(a && b) << (is_udp ? "UDP" : "TCP") << ": one pod did not get through";
      EXPECT_EQ(addr_of(*a), node.str());
      EXPECT_EQ(addr_of(*b), node.str());
      EXPECT_EQ(port_of(*a), 40000) << "the first flow keeps its source port";
      EXPECT_NE(port_of(*b), 40000) << "the second flow needs another port";
      EXPECT_GE(port_of(*b), 32768);
      EXPECT_LE(port_of(*b), 60999);
    }
  }
}

TEST_F(NatNetnsTest, PortsTheNodeUsesAreNotGivenToPods) {
  PeerServer tcp(world_, world4_, false, 8080);
  PeerServer udp(world_, world4_, true, 5353);
  // The node itself: a UDP socket on node:40000 talking to the world's
  // server, and a TCP listener on port 40001.
  int usock = -1, lsock = -1;
  run_in_netns(node_, [&] {
    usock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    lsock = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  });
  ASSERT_GE(usock, 0);
  ASSERT_GE(lsock, 0);
  socklen_t len;
  auto local = sockaddr_of(node4_, 40000, len);
  ASSERT_EQ(::bind(usock, reinterpret_cast<sockaddr*>(&local), len), 0);
  auto srv = sockaddr_of(world4_, 5353, len);
  ASSERT_EQ(::connect(usock, reinterpret_cast<sockaddr*>(&srv), len), 0);
  auto any = sockaddr_of(ip("0.0.0.0"), 40001, len);
  ASSERT_EQ(::bind(lsock, reinterpret_cast<sockaddr*>(&any), len), 0);
  ASSERT_EQ(::listen(lsock, 4), 0);

  auto u = ask(pods_[0].ns, world4_, 5353, true, 40000);
  auto t = ask(pods_[0].ns, world4_, 8080, false, 40001);
  ASSERT_TRUE(u && t);
  EXPECT_EQ(addr_of(*u), node4_.str());
  EXPECT_NE(port_of(*u), 40000) << "a pod flow took the node's UDP port";
  EXPECT_NE(port_of(*t), 40001) << "a pod flow took the node's listening port";
  // The node's own socket still gets its own answers.
  timeval tv{2, 0};
  ::setsockopt(usock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  char buf[64];
  ssize_t n = ::send(usock, "?", 1, 0) == 1 ? ::recv(usock, buf, sizeof(buf), 0) : -1;
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)), node4_.str() + " 40000");
  ::close(usock);
  ::close(lsock);
}

TEST_F(NatNetnsTest, ANodeFlowOpenedAfterAPodFlowOnTheSamePortWorks) {
  PeerServer udp(world_, world4_, true, 5353);
  auto pod_first = ask(pods_[0].ns, world4_, 5353, true, 40000);
  ASSERT_TRUE(pod_first);
  EXPECT_EQ(port_of(*pod_first), 40000);
  // Now the node itself talks to the same server from port 40000.
  int usock = -1;
  run_in_netns(node_, [&] { usock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0); });
  ASSERT_GE(usock, 0);
  socklen_t len;
  auto local = sockaddr_of(node4_, 40000, len);
  ASSERT_EQ(::bind(usock, reinterpret_cast<sockaddr*>(&local), len), 0);
  auto srv = sockaddr_of(world4_, 5353, len);
  ASSERT_EQ(::connect(usock, reinterpret_cast<sockaddr*>(&srv), len), 0);
  timeval tv{2, 0};
  ::setsockopt(usock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  char buf[64];
  ssize_t n = ::send(usock, "?", 1, 0) == 1 ? ::recv(usock, buf, sizeof(buf), 0) : -1;
  ::close(usock);
  ASSERT_GT(n, 0) << "the node's own flow lost its answer to the pod's";
  std::string seen(buf, static_cast<size_t>(n));
  EXPECT_EQ(addr_of(seen), node4_.str());
  EXPECT_NE(port_of(seen), 40000) << "the node's flow was not moved off the pod's port";
  // The pod's flow is unaffected.
  auto pod_again = ask(pods_[0].ns, world4_, 5353, true, 40000);
  ASSERT_TRUE(pod_again);
  EXPECT_EQ(port_of(*pod_again), 40000);
}

TEST_F(NatNetnsTest, RepliesPassThePodsIngressPolicyNewWorldConnectionsDoNot) {
  // Pod 1 enforces ingress and allows nothing: the world cannot open a
  // connection to it, but the answers to its own connections come in.
  must("ip -n " + world_ + " route add 10.233.64.0/24 via " + node4_.str());
  pods_[0].flags = CPP_EP_F_ENFORCE_INGRESS;
  add_endpoint(pods_[0]);
  PeerServer world_srv(world_, world4_, false, 8080);
  PeerServer pod_srv(pods_[0].ns, pods_[0].ip4, false, 9090);
  auto seen = ask(pods_[0].ns, world4_, 8080, false);
  ASSERT_TRUE(seen) << "answer from the world was dropped by the pod's ingress policy";
  EXPECT_EQ(addr_of(*seen), node4_.str());
  EXPECT_FALSE(ask(world_, pods_[0].ip4, 9090, false)) << "a new world connection passed a deny-all ingress";
}

TEST_F(NatNetnsTest, WorldToPodTrafficIsNotMasqueraded) {
  // A world that routes the PodCIDR to the node reaches pods directly, and
  // the pods' answers must leave with the pods' own addresses.
  must("ip -n " + world_ + " route add 10.233.64.0/24 via " + node4_.str());
  must("ip -n " + world_ + " -6 route add fd00:cafe::/64 via " + node6_.str());
  for (const auto& [pod, from] : {std::pair{pods_[1].ip4, world_link4_}, std::pair{pods_[1].ip6, world_link6_}}) {
    SCOPED_TRACE(pod.str());
    PeerServer tcp(pods_[1].ns, pod, false, 9090);
    PeerServer udp(pods_[1].ns, pod, true, 9091);
    auto seen = ask(world_, pod, 9090, false);
    ASSERT_TRUE(seen) << "world -> pod TCP failed (answer masqueraded?)";
    EXPECT_EQ(addr_of(*seen), from.str()) << "the pod sees the world's own address";
    seen = ask(world_, pod, 9091, true);
    ASSERT_TRUE(seen) << "world -> pod UDP failed (answer masqueraded?)";
    EXPECT_EQ(addr_of(*seen), from.str());
  }
  EXPECT_TRUE(nat_entries().empty()) << "answers to world connections got NAT entries";
}

TEST_F(NatNetnsTest, NoIptablesRulesAndNoMasqueradeWithoutTheProgram) {
  auto rules = sh(in_ns(node_) + "iptables-save; " + in_ns(node_) + "ip6tables-save");
  EXPECT_EQ(rules.output.find("nat"), std::string::npos) << rules.output;
  EXPECT_EQ(rules.output.find("MASQUERADE"), std::string::npos) << rules.output;
  PeerServer tcp(world_, world4_, false, 8080);
  ASSERT_TRUE(ask(pods_[0].ns, world4_, 8080, false));
  // Without bpf_netdev nothing masquerades: the world cannot answer.
  run_in_netns(node_, [&] { Loader::detach_netdev(eth0_); });
  EXPECT_FALSE(ask(pods_[0].ns, world4_, 8080, false));
}

TEST_F(NatNetnsTest, PortUnreachableFromTheWorldReachesThePod) {
  // Nothing listens on the world's port 9: its ICMP error quotes the
  // masqueraded datagram and must come back to the pod's socket.
  for (const auto& dst : {world4_, world6_}) {
    SCOPED_TRACE(dst.str());
    int fd = -1;
    run_in_netns(pods_[0].ns, [&] { fd = ::socket(dst.v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0); });
    ASSERT_GE(fd, 0);
    timeval tv{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    socklen_t len;
    auto sa = sockaddr_of(dst, 9, len);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&sa), len), 0);
    int err = 0;
    for (int attempt = 0; attempt < 3 && err != ECONNREFUSED; ++attempt) {
      char buf[16];
      if (::send(fd, "?", 1, 0) != 1 && errno == ECONNREFUSED) err = ECONNREFUSED;
      if (err != ECONNREFUSED && ::recv(fd, buf, sizeof(buf), 0) < 0) err = errno;
    }
    ::close(fd);
    EXPECT_EQ(err, ECONNREFUSED) << "the port unreachable did not reach the pod: " << std::strerror(err);
  }
}

TEST_F(NatNetnsTest, OpenConnectionSurvivesAProgramReload) {
  PeerServer udp(world_, world4_, true, 5353);
  // A long-lived UDP flow: same socket before and after the reload.
  int fd = -1;
  run_in_netns(pods_[0].ns, [&] { fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0); });
  ASSERT_GE(fd, 0);
  timeval tv{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  socklen_t len;
  auto sa = sockaddr_of(world4_, 5353, len);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&sa), len), 0);
  auto roundtrip = [&] {
    for (int i = 0; i < 3; ++i) {
      char buf[128];
      ssize_t n = ::send(fd, "?", 1, 0) == 1 ? ::recv(fd, buf, sizeof(buf), 0) : -1;
      if (n > 0) return std::string(buf, static_cast<size_t>(n));
    }
    return std::string();
  };
  auto before = roundtrip();
  ASSERT_FALSE(before.empty());
  load_masquerade();  // the agent restarting: replace in place, maps kept
  auto after = roundtrip();
  EXPECT_EQ(after.substr(0, before.size()), before) << "the flow changed mapping across a reload";
  ::close(fd);
}

}  // namespace
}  // namespace cpp::bpftest
