// Policy end to end in network namespaces (topology: netns_fixture.h): real
// TCP connections and pings between pods and the node, through programs
// loaded by the real Loader, with identities in the ipcache and policy
// entries written through PolicyMap, as the agent does. Each test runs for
// IPv4 and IPv6.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "datapath/event_reader.h"
#include "datapath/ipcache_map.h"
#include "datapath/policy_map.h"
#include "netns_fixture.h"

namespace cpp::bpftest {
namespace {

// A TCP echo server in a pod. The listening socket is created inside the
// pod's namespace (a socket belongs to the namespace it was created in);
// the serving thread itself never changes namespace.
class TcpEchoServer {
 public:
  TcpEchoServer(const std::string& ns, bool v6, uint16_t port)
      : server_(bound_socket(ns, v6 ? ip("::") : ip("0.0.0.0"), port), serve) {}

 private:
  static void serve(int fd, int stop_fd) {
    std::vector<pollfd> fds = {{stop_fd, POLLIN, 0}, {fd, POLLIN, 0}};
    for (;;) {
      if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) break;
      if (fds[0].revents) break;
      if (fds[1].revents & POLLIN) {
        int c = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (c >= 0) fds.push_back({c, POLLIN, 0});
      }
      for (size_t i = 2; i < fds.size(); ++i) {
        if (!fds[i].revents) continue;
        char buf[512];
        ssize_t n = ::recv(fds[i].fd, buf, sizeof(buf), 0);
        if (n <= 0 || ::send(fds[i].fd, buf, static_cast<size_t>(n), MSG_NOSIGNAL) != n) {
          ::close(fds[i].fd);
          fds.erase(fds.begin() + static_cast<long>(i--));
        }
      }
    }
    for (size_t i = 2; i < fds.size(); ++i) ::close(fds[i].fd);
  }

  SocketServer server_;
};

// A client connection opened from inside a pod. Closed on destruction.
class TcpClient {
 public:
  // Connects within timeout_ms; connected() tells whether it worked.
  TcpClient(const std::string& ns, const IpAddr& dst, uint16_t port, int timeout_ms) {
    run_in_netns(ns, [&] {
      fd_ = ::socket(dst.v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    });
    if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    socklen_t len;
    auto sa = sockaddr_of(dst, port, len);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&sa), len) == 0) {
      connected_ = true;
    } else if (errno == EINPROGRESS) {
      pollfd p{fd_, POLLOUT, 0};
      int err = 0;
      socklen_t el = sizeof(err);
      connected_ = ::poll(&p, 1, timeout_ms) == 1 &&
                   ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == 0;
    }
    ::fcntl(fd_, F_SETFL, 0);  // blocking from here, with timeouts
    timeval tv{2, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  }
  ~TcpClient() { ::close(fd_); }
  TcpClient(const TcpClient&) = delete;
  TcpClient& operator=(const TcpClient&) = delete;

  bool connected() const { return connected_; }
  // Sends msg and expects it back from the echo server.
  bool echo(const std::string& msg) {
    if (::send(fd_, msg.data(), msg.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(msg.size()))
      return false;
    std::string got;
    char buf[512];
    while (got.size() < msg.size()) {
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) return false;
      got.append(buf, static_cast<size_t>(n));
    }
    return got == msg;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

constexpr uint16_t kPort = 8080;
constexpr int kConnectOk = 3000, kConnectFail = 1500;  // ms

class PolicyNetnsTest : public NetnsNodeTest, public ::testing::WithParamInterface<bool> {
 protected:
  void SetUp() override {
    NetnsNodeTest::SetUp();
    if (HasFatalFailure()) return;
    // What the agent's ipcache holds: the pods and the node itself.
    datapath::IpcacheMap ipc(pin_.path());
    for (const auto& p : pods_)
      for (const auto& a : {p.ip4, p.ip6}) ipc.upsert(IpPrefix{a, a.bits()}, ident(p.identity));
    for (const auto& a : {router4_, router6_})
      ipc.upsert(IpPrefix{a, a.bits()}, ident(CPP_ID_HOST));
    policy_ = std::make_unique<datapath::PolicyMap>(pin_.path());
    events_ = std::make_unique<datapath::EventReader>(
        pin_.path(), [this](const datapath::Event& e) { events_seen_.push_back(e); });
  }
  void TearDown() override {
    events_.reset();
    NetnsNodeTest::TearDown();
  }

  static cpp_ipcache_value ident(uint32_t id) {
    cpp_ipcache_value v{};
    v.sec_identity = id;
    return v;
  }
  bool v6() const { return GetParam(); }
  IpAddr addr(const Pod& p) const { return v6() ? p.ip6 : p.ip4; }
  IpAddr router() const { return v6() ? router6_ : router4_; }

  void set_flags(Pod& p, uint32_t flags) {
    p.flags = flags;
    add_endpoint(p);  // rewrites the cpp_lxc entries with the new flags
  }
  void allow(const Pod& p, uint8_t dir, uint32_t id, uint8_t proto, uint16_t port) {
    policy_->upsert(datapath::PolicyKey{p.id, dir, proto, id, port},
                    datapath::PolicyEntry{false, 0, 1});
  }
  void deny(const Pod& p, uint8_t dir, uint32_t id, uint8_t proto, uint16_t port) {
    policy_->upsert(datapath::PolicyKey{p.id, dir, proto, id, port},
                    datapath::PolicyEntry{true, 0, 2});
  }
  // Drop reasons reported since the last call.
  std::vector<uint8_t> drops() {
    events_->consume();
    std::vector<uint8_t> out;
    for (const auto& e : events_seen_)
      if (e.type == CPP_EVENT_DROP) out.push_back(e.reason);
    events_seen_.clear();
    return out;
  }
  static bool contains(const std::vector<uint8_t>& v, uint8_t x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  }

  std::unique_ptr<datapath::PolicyMap> policy_;
  std::unique_ptr<datapath::EventReader> events_;
  std::vector<datapath::Event> events_seen_;
};

INSTANTIATE_TEST_SUITE_P(Family, PolicyNetnsTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "IPv6" : "IPv4"; });

TEST_P(PolicyNetnsTest, TcpConnectRefusedByPolicyThenAllowedByEntry) {
  Pod& client = pods_[0];
  Pod& server = pods_[1];
  TcpEchoServer srv(server.ns, v6(), kPort);
  {
    TcpClient c(client.ns, addr(server), kPort, kConnectOk);
    ASSERT_TRUE(c.connected()) << "no policy: the connection must work";
    EXPECT_TRUE(c.echo("hello"));
  }
  drops();

  set_flags(client, CPP_EP_F_ENFORCE_EGRESS);
  EXPECT_FALSE(TcpClient(client.ns, addr(server), kPort, kConnectFail).connected());
  EXPECT_TRUE(contains(drops(), CPP_DROP_POLICY));

  allow(client, CPP_DIR_EGRESS, server.identity, IPPROTO_TCP, kPort);
  TcpClient c1(client.ns, addr(server), kPort, kConnectOk);
  ASSERT_TRUE(c1.connected());
  EXPECT_TRUE(c1.echo("allowed by egress entry"));

  // Now the server's ingress: new connections need its own entry, the
  // open one goes on.
  set_flags(server, CPP_EP_F_ENFORCE_INGRESS);
  EXPECT_FALSE(TcpClient(client.ns, addr(server), kPort, kConnectFail).connected());
  EXPECT_TRUE(c1.echo("still open"));
  allow(server, CPP_DIR_INGRESS, client.identity, IPPROTO_TCP, kPort);
  TcpClient c2(client.ns, addr(server), kPort, kConnectOk);
  ASSERT_TRUE(c2.connected());
  EXPECT_TRUE(c2.echo("allowed both ways"));
}

TEST_P(PolicyNetnsTest, EstablishedConnectionSurvivesDenyAllForNewOnes) {
  Pod& client = pods_[0];
  Pod& server = pods_[1];
  TcpEchoServer srv(server.ns, v6(), kPort);
  set_flags(client, CPP_EP_F_ENFORCE_EGRESS);
  allow(client, CPP_DIR_EGRESS, server.identity, IPPROTO_TCP, kPort);
  TcpClient open(client.ns, addr(server), kPort, kConnectOk);
  ASSERT_TRUE(open.connected());
  ASSERT_TRUE(open.echo("before"));
  drops();

  // Deny everything new: the existing allowed flow stays, new ones drop.
  deny(client, CPP_DIR_EGRESS, 0, 0, 0);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(open.echo("after " + std::to_string(i)));
  EXPECT_FALSE(TcpClient(client.ns, addr(server), kPort, kConnectFail).connected());
  EXPECT_TRUE(contains(drops(), CPP_DROP_POLICY_DENY));
  EXPECT_TRUE(open.echo("still there"));
}

TEST_P(PolicyNetnsTest, PingRepliesPassWithEgressOnlyPolicy) {
  Pod& a = pods_[0];
  Pod& b = pods_[1];
  const uint8_t icmp = v6() ? uint8_t{IPPROTO_ICMPV6} : uint8_t{IPPROTO_ICMP};
  const uint16_t echo_request = v6() ? 128 : 8;
  // Pod A may send echo requests to B and to the node; nothing may come in
  // on its own.
  set_flags(a, CPP_EP_F_ENFORCE_EGRESS | CPP_EP_F_ENFORCE_INGRESS);
  allow(a, CPP_DIR_EGRESS, b.identity, icmp, echo_request);
  allow(a, CPP_DIR_EGRESS, CPP_ID_HOST, icmp, echo_request);
  auto r = ping(a.ns, addr(b));
  EXPECT_EQ(r.status, 0) << "reply from B (same node, redirect_peer)\n" << r.output;
  r = ping(a.ns, router());
  EXPECT_EQ(r.status, 0) << "reply from the node (through bpf_host)\n" << r.output;

  EXPECT_TRUE(ping_fails(b.ns, addr(a))) << "B -> A is new and A's ingress allows nothing";
  EXPECT_TRUE(ping_fails(node_, addr(a))) << "node -> A likewise";
  allow(a, CPP_DIR_INGRESS, CPP_ID_HOST, 0, 0);
  r = ping(node_, addr(a));
  EXPECT_EQ(r.status, 0) << "host identity allowed in\n" << r.output;
  EXPECT_TRUE(ping_fails(b.ns, addr(a))) << "still not B";
  // Echo to other types stays closed: A's TCP to B is not allowed.
  TcpEchoServer srv(b.ns, v6(), kPort);
  EXPECT_FALSE(TcpClient(a.ns, addr(b), kPort, kConnectFail).connected());
}

}  // namespace
}  // namespace cpp::bpftest
