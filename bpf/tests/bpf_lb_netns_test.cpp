// Per-packet ClusterIP load balancing with real traffic: the node and two
// pods of netns_fixture.h, programs reloaded by the agent's Loader with
// kube-proxy replacement on, sockets opened by this process directly in
// the pod namespaces (outside any socket-LB cgroup, so only bpf_lxc and
// bpf_host translate). The frontend addresses exist nowhere: a connection
// works only if the datapath translated both directions, with the checksums
// the kernel verifies (the pods' TCP uses checksum offload, i.e.
// CHECKSUM_PARTIAL packets).
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <tuple>

#include "bpf_lb_maps.h"
#include "netns_fixture.h"

namespace cpp::bpftest {
namespace {

constexpr uint8_t kTcp = 6, kUdp = 17;

std::pair<IpAddr, uint16_t> addr_of(const sockaddr_storage& ss) {
  IpAddr a;
  if (ss.ss_family == AF_INET6) {
    auto* s6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    a.v6 = true;
    std::memcpy(a.bytes.data(), &s6->sin6_addr, 16);
    return {a, ntohs(s6->sin6_port)};
  }
  auto* s4 = reinterpret_cast<const sockaddr_in*>(&ss);
  std::memcpy(a.bytes.data(), &s4->sin_addr, 4);
  return {a, ntohs(s4->sin_port)};
}

// Answers every connection with "<local addr> <local port> <peer addr>":
// where the connection really arrived and from whom.
class TcpWho {
 public:
  TcpWho(const std::string& ns, const IpAddr& a, uint16_t port)
      : server_(bound_socket(ns, a, port), serve) {}

 private:
  static void serve(int fd, int stop_fd) {
    pollfd fds[2] = {{stop_fd, POLLIN, 0}, {fd, POLLIN, 0}};
    for (;;) {
      if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
      if (fds[0].revents) return;
      sockaddr_storage peer{}, local{};
      socklen_t plen = sizeof(peer), llen = sizeof(local);
      int c = ::accept4(fd, reinterpret_cast<sockaddr*>(&peer), &plen, SOCK_CLOEXEC);
      if (c < 0) continue;
      ::getsockname(c, reinterpret_cast<sockaddr*>(&local), &llen);
      auto [la, lp] = addr_of(local);
      std::string msg = la.str() + " " + std::to_string(lp) + " " + addr_of(peer).first.str();
      (void)!::write(c, msg.data(), msg.size());
      ::close(c);
    }
  }
  SocketServer server_;
};

class UdpEcho {
 public:
  UdpEcho(const std::string& ns, const IpAddr& a, uint16_t port)
      : server_(bound_socket(ns, a, port, true), serve) {}

 private:
  static void serve(int fd, int stop_fd) {
    pollfd fds[2] = {{stop_fd, POLLIN, 0}, {fd, POLLIN, 0}};
    char buf[512];
    for (;;) {
      if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
      if (fds[0].revents) return;
      sockaddr_storage from{};
      socklen_t len = sizeof(from);
      ssize_t n = ::recvfrom(fd, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n > 0) ::sendto(fd, buf, static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), len);
    }
  }
  SocketServer server_;
};

struct Outcome {
  int err = 0;  // errno of the failed connect; ETIMEDOUT when nothing came back
  std::string reply;
  IpAddr peer;
};

class BpfLbNetnsTest : public NetnsNodeTest {
 protected:
  void SetUp() override {
    NetnsNodeTest::SetUp();
    lb_ = std::make_unique<LbMaps>(pin_.path());
    reload(true);
  }
  void TearDown() override {
    lb_.reset();
    NetnsNodeTest::TearDown();
  }

  // The agent's loader with kube-proxy replacement on: tc filters replaced.
  void reload(bool reject) {
    NodeConsts c = node_consts();
    c.lb.enabled = true;
    c.lb.reject_no_backend = reject;
    run_in_netns(node_, [&] {
      Loader loader(pin_.path());
      loader.load_host_program(c, host_ifindex_);
      for (auto& p : pods_) loader.load_lxc_program(c, ep_consts(p), p.lxc_ifindex);
    });
  }

  // A TCP connection from pod 1, with a deadline.
  Outcome connect_from_pod1(const IpAddr& dst, uint16_t port, int timeout_ms = 5000) {
    Outcome o;
    int fd = -1;
    run_in_netns(pods_[0].ns, [&] {
      fd = ::socket(dst.v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    });
    if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    socklen_t len;
    auto ss = sockaddr_of(dst, port, len);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 && errno != EINPROGRESS) {
      o.err = errno;
      ::close(fd);
      return o;
    }
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, timeout_ms) != 1) {
      o.err = ETIMEDOUT;
      ::close(fd);
      return o;
    }
    int soerr = 0;
    socklen_t sl = sizeof(soerr);
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
    if (soerr) {
      o.err = soerr;
      ::close(fd);
      return o;
    }
    sockaddr_storage peer{};
    socklen_t plen = sizeof(peer);
    ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &plen);
    o.peer = addr_of(peer).first;
    p = {fd, POLLIN, 0};
    char buf[160];
    if (::poll(&p, 1, timeout_ms) == 1) {
      ssize_t n = ::read(fd, buf, sizeof(buf));
      if (n > 0) o.reply.assign(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return o;
  }

  IpAddr fe4 = ip("10.96.0.10"), fe6 = ip("fd00:96::10");
  IpAddr empty4 = ip("10.96.0.11"), empty6 = ip("fd00:96::11");
  std::unique_ptr<LbMaps> lb_;
};

TEST_F(BpfLbNetnsTest, PodReachesClusterIpBackendOnTheNode) {
  const Pod& b = pods_[1];
  TcpWho s4(b.ns, b.ip4, 8080), s6(b.ns, b.ip6, 8080);
  lb_->backend(1, b.ip4, 8080, kTcp);
  lb_->backend(2, b.ip6, 8080, kTcp);
  lb_->service({fe4, 80, kTcp}, 10, {1});
  lb_->service({fe6, 80, kTcp}, 11, {2});

  auto o4 = connect_from_pod1(fe4, 80);
  ASSERT_EQ(o4.err, 0) << std::strerror(o4.err);
  EXPECT_EQ(o4.reply, b.ip4.str() + " 8080 " + pods_[0].ip4.str())
      << "the backend got it, from the client's own address";
  EXPECT_EQ(o4.peer, fe4);

  auto o6 = connect_from_pod1(fe6, 80);
  ASSERT_EQ(o6.err, 0) << std::strerror(o6.err);
  EXPECT_EQ(o6.reply, b.ip6.str() + " 8080 " + pods_[0].ip6.str());
  EXPECT_EQ(o6.peer, fe6);
}

TEST_F(BpfLbNetnsTest, UdpAnswersComeFromTheFrontend) {
  const Pod& b = pods_[1];
  UdpEcho e4(b.ns, b.ip4, 5353), e6(b.ns, b.ip6, 5353);
  lb_->backend(3, b.ip4, 5353, kUdp);
  lb_->backend(4, b.ip6, 5353, kUdp);
  lb_->service({fe4, 53, kUdp}, 20, {3});
  lb_->service({fe6, 53, kUdp}, 21, {4});
  for (const auto& fe : {fe4, fe6}) {
    int fd = -1;
    run_in_netns(pods_[0].ns, [&] { fd = ::socket(fe.v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0); });
    ASSERT_GE(fd, 0);
    socklen_t len;
    auto dst = sockaddr_of(fe, 53, len);
    bool answered = false;
    // The first datagram may race neighbour resolution; a few tries.
    for (int i = 0; i < 5 && !answered; ++i) {
      ASSERT_EQ(::sendto(fd, "q", 1, 0, reinterpret_cast<sockaddr*>(&dst), len), 1);
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 1000) != 1) continue;
      char buf[16];
      sockaddr_storage from{};
      socklen_t flen = sizeof(from);
      ASSERT_EQ(::recvfrom(fd, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &flen), 1);
      auto [a, port] = addr_of(from);
      EXPECT_EQ(a, fe);
      EXPECT_EQ(port, 53);
      answered = true;
    }
    EXPECT_TRUE(answered) << fe.str();
    ::close(fd);
  }
}

TEST_F(BpfLbNetnsTest, BackendBehindTheStackAnswersThroughBpfHost) {
  // The node itself serves on its router address: requests go up the
  // node's stack, the answers come back through cilium_host.
  TcpWho s4(node_, router4_, 9090), s6(node_, router6_, 9090);
  lb_->backend(5, router4_, 9090, kTcp);
  lb_->backend(6, router6_, 9090, kTcp);
  lb_->service({fe4, 90, kTcp}, 30, {5});
  lb_->service({fe6, 90, kTcp}, 31, {6});
  for (const auto& [fe, be] : {std::pair{fe4, router4_}, std::pair{fe6, router6_}}) {
    auto o = connect_from_pod1(fe, 90);
    ASSERT_EQ(o.err, 0) << fe.str() << ": " << std::strerror(o.err);
    EXPECT_EQ(o.reply.substr(0, o.reply.find(' ')), be.str());
    EXPECT_EQ(o.peer, fe);
  }
}

TEST_F(BpfLbNetnsTest, NoBackendIsRefusedAtOnceOrDropped) {
  lb_->service({empty4, 80, kTcp}, 40, {});
  lb_->service({empty6, 80, kTcp}, 41, {});
  for (const auto& fe : {empty4, empty6})
    EXPECT_EQ(connect_from_pod1(fe, 80).err, ECONNREFUSED) << fe.str() << ": ICMP port unreachable";

  reload(false);
  for (const auto& fe : {empty4, empty6})
    EXPECT_EQ(connect_from_pod1(fe, 80, 1500).err, ETIMEDOUT) << fe.str() << ": dropped";
}

TEST_F(BpfLbNetnsTest, PodReachesItselfThroughItsOwnService) {
  // Hairpin: pod 1 is the only backend of the service it connects to. The
  // backend sees the service loopback address as the client, the client
  // sees the frontend as its peer.
  const Pod& a = pods_[0];
  TcpWho s4(a.ns, a.ip4, 8080), s6(a.ns, a.ip6, 8080);
  lb_->backend(7, a.ip4, 8080, kTcp);
  lb_->backend(8, a.ip6, 8080, kTcp);
  lb_->service({fe4, 80, kTcp}, 50, {7});
  lb_->service({fe6, 80, kTcp}, 51, {8});
  for (const auto& [fe, self, loopback] :
       {std::tuple{fe4, a.ip4, ip("169.254.42.1")}, std::tuple{fe6, a.ip6, ip("fe80::1")}}) {
    auto o = connect_from_pod1(fe, 80);
    ASSERT_EQ(o.err, 0) << fe.str() << ": " << std::strerror(o.err);
    EXPECT_EQ(o.reply, self.str() + " 8080 " + loopback.str());
    EXPECT_EQ(o.peer, fe);
  }
}

TEST_F(BpfLbNetnsTest, ConnectedUdpSocketSeesTheBackendsPortUnreachable) {
  // Nothing listens on the backend port: pod 2's kernel answers with ICMP
  // port unreachable quoting pod1 -> backend; translated back, it reaches
  // the socket connected to the frontend.
  const Pod& b = pods_[1];
  lb_->backend(9, b.ip4, 5999, kUdp);
  lb_->backend(10, b.ip6, 5999, kUdp);
  lb_->service({fe4, 59, kUdp}, 60, {9});
  lb_->service({fe6, 59, kUdp}, 61, {10});
  for (const auto& fe : {fe4, fe6}) {
    int fd = -1;
    run_in_netns(pods_[0].ns, [&] { fd = ::socket(fe.v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0); });
    ASSERT_GE(fd, 0);
    socklen_t len;
    auto dst = sockaddr_of(fe, 59, len);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&dst), len), 0);
    int err = 0;
    // The first datagram may race neighbour resolution; a few tries.
    for (int i = 0; i < 10 && err == 0; ++i) {
      (void)!::send(fd, "q", 1, 0);
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 1000) != 1) continue;
      char buf[16];
      if (::recv(fd, buf, sizeof(buf), MSG_DONTWAIT) < 0) err = errno;
    }
    EXPECT_EQ(err, ECONNREFUSED) << fe.str();
    ::close(fd);
  }
}

}  // namespace
}  // namespace cpp::bpftest
