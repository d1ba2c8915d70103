// Socket LB (bpf_sock_lb) with real sockets: the cgroup programs attached
// to a child cgroup /sys/fs/cgroup/unified/ciliumpp/test-<pid>-<rand>, this
// test process moved into it, servers and clients in a cpp-sk-* network
// namespace where the backends' addresses live on lo and no frontend
// address exists at all: a connection to a frontend only works if the
// socket layer translated it. Service maps filled by hand. Trace-sock
// events are read from the ring buffer the object pins (datapath::EventReader).
//
// Everything is removed on exit, also when a test fails: the process goes
// back to its own cgroup before the child cgroup is removed, the namespace
// is deleted, the pins go with the pin directory.
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "bpf_lb_maps.h"
#include "bpf_sock_lb.skel.h"
#include "datapath/event_reader.h"
#include "netns_util.h"
#include "test_util.h"

namespace cpp::bpftest {
namespace {

constexpr uint8_t kTcp = 6, kUdp = 17;
const std::string kCgroupBase = "/sys/fs/cgroup/unified/ciliumpp";

void write_file(const std::string& path, const std::string& data) {
  std::ofstream f(path);
  f << data;
  f.flush();
  if (!f) throw std::runtime_error("write " + path + " failed");
}

// The cgroup v2 path of this process ("0::/path" in /proc/self/cgroup).
std::string own_cgroup() {
  std::ifstream f("/proc/self/cgroup");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("0::", 0) == 0) return line.substr(3);
  throw std::runtime_error("no cgroup v2 entry in /proc/self/cgroup");
}

// A child cgroup this process lives in while the object exists.
class ChildCgroup {
 public:
  explicit ChildCgroup(const std::string& name)
      : path_(kCgroupBase + "/" + name), home_("/sys/fs/cgroup/unified" + own_cgroup()) {
    ::mkdir(kCgroupBase.c_str(), 0755);  // shared parent, removed when the last user leaves
    if (::mkdir(path_.c_str(), 0755) != 0)
      throw std::runtime_error("mkdir " + path_ + ": " + std::strerror(errno));
    fd_ = ::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd_ < 0) throw std::runtime_error("open " + path_ + ": " + std::strerror(errno));
  }
  ~ChildCgroup() {
    leave();
    ::close(fd_);
    ::rmdir(path_.c_str());
    ::rmdir(kCgroupBase.c_str());  // fails (and stays) while another user has a child there
  }
  ChildCgroup(const ChildCgroup&) = delete;
  ChildCgroup& operator=(const ChildCgroup&) = delete;

  // Moves the whole process (every thread) in; sockets created from now
  // on belong to this cgroup.
  void enter() { write_file(path_ + "/cgroup.procs", std::to_string(::getpid())); }
  void leave() noexcept {
    try {
      write_file(home_ + "/cgroup.procs", std::to_string(::getpid()));
    } catch (...) {
    }
  }
  int fd() const { return fd_; }

 private:
  std::string path_, home_;
  int fd_ = -1;
};

class Netns {
 public:
  explicit Netns(const std::string& name) : name_(name) { must("ip netns add " + name_); }
  ~Netns() { sh("ip netns del " + name_); }
  Netns(const Netns&) = delete;
  Netns& operator=(const Netns&) = delete;
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

// bpf_sock_lb loaded on the pin directory and attached to the cgroup;
// detached and unloaded on destruction.
class SockLb {
 public:
  SockLb(const std::string& pin_dir, int cgroup_fd, bool reject, bool trace) {
    auto opts = pin_opts(pin_dir);
    skel_ = bpf_sock_lb::open(&opts);
    if (!skel_) throw std::runtime_error("bpf_sock_lb: open failed");
    skel_->rodata->ENABLE_LB = 1;
    skel_->rodata->LB_NO_BACKEND_REJECT = reject;
    skel_->rodata->TRACE_SOCK_NOTIFY = trace;
    if (int err = bpf_sock_lb::load(skel_)) {
      bpf_sock_lb::destroy(skel_);
      throw std::runtime_error("bpf_sock_lb: load: " + std::string(std::strerror(-err)));
    }
    auto& p = skel_->progs;
    auto& l = skel_->links;
    struct {
      bpf_program* prog;
      bpf_link** link;
    } all[] = {{p.cil_sock4_connect, &l.cil_sock4_connect},
               {p.cil_sock4_sendmsg, &l.cil_sock4_sendmsg},
               {p.cil_sock4_recvmsg, &l.cil_sock4_recvmsg},
               {p.cil_sock4_getpeername, &l.cil_sock4_getpeername},
               {p.cil_sock6_connect, &l.cil_sock6_connect},
               {p.cil_sock6_sendmsg, &l.cil_sock6_sendmsg},
               {p.cil_sock6_recvmsg, &l.cil_sock6_recvmsg},
               {p.cil_sock6_getpeername, &l.cil_sock6_getpeername}};
    for (auto& a : all) {
      *a.link = bpf_program__attach_cgroup(a.prog, cgroup_fd);
      if (!*a.link) {
        int e = errno;
        bpf_sock_lb::destroy(skel_);  // detaches what was attached
        throw std::runtime_error(std::string("attach ") + bpf_program__name(a.prog) + ": " +
                                 std::strerror(e));
      }
    }
  }
  ~SockLb() { bpf_sock_lb::destroy(skel_); }
  SockLb(const SockLb&) = delete;
  SockLb& operator=(const SockLb&) = delete;

 private:
  bpf_sock_lb* skel_ = nullptr;
};

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

// A TCP server answering every connection with the address it was
// reached at ("ip port"), which is what the client really connected to.
class TcpEcho {
 public:
  TcpEcho(const std::string& ns, const IpAddr& a, uint16_t port)
      : server_(bound_socket(ns, a, port), serve) {}

 private:
  static void serve(int fd, int stop_fd) {
    pollfd fds[2] = {{stop_fd, POLLIN, 0}, {fd, POLLIN, 0}};
    for (;;) {
      if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
      if (fds[0].revents) return;
      int c = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      sockaddr_storage ss{};
      socklen_t len = sizeof(ss);
      ::getsockname(c, reinterpret_cast<sockaddr*>(&ss), &len);
      auto [a, p] = addr_of(ss);
      std::string msg = a.str() + " " + std::to_string(p);
      (void)!::write(c, msg.data(), msg.size());
      ::close(c);
    }
  }
  SocketServer server_;
};

// A UDP server echoing each datagram back to its sender.
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

struct ConnectResult {
  int err = 0;           // errno of a failed connect, 0 on success
  std::string reply;     // what the server said ("ip port" it was reached at)
  IpAddr peer;           // getpeername()
  uint16_t peer_port = 0;
};

class DatapathSockNetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string id = std::to_string(::getpid()) + "-" + random_suffix();
    ns_ = std::make_unique<Netns>("cpp-sk-" + id);
    const std::string n = "ip -n " + ns_->name() + " ";
    must(n + "link set lo up");
    for (const auto& a : {be4a, be4b}) must(n + "addr add " + a.str() + "/32 dev lo");
    must(n + "addr add " + be6.str() + "/128 dev lo nodad");
    cg_ = std::make_unique<ChildCgroup>("test-" + id);
    load(true);
    lb_ = std::make_unique<LbMaps>(pin_.path());
    cg_->enter();
  }
  void TearDown() override {
    // Reverse order of creation; the destructors also run when SetUp threw.
    sock_.reset();
    lb_.reset();
    cg_.reset();
    ns_.reset();
  }

  void load(bool reject, bool trace = true) {
    sock_.reset();
    sock_ = std::make_unique<SockLb>(pin_.path(), cg_->fd(), reject, trace);
  }

  // The trace-sock events in the ring so far, in order.
  std::vector<datapath::Event> sock_events() {
    std::vector<datapath::Event> got;
    datapath::EventReader r(pin_.path(), [&](const datapath::Event& e) {
      if (e.type == CPP_EVENT_TRACE_SOCK) got.push_back(e);
    });
    r.consume();
    return got;
  }

  // What bpf_get_netns_cookie() returns for the test namespace.
  uint64_t netns_cookie() {
    int fd = make_socket(AF_INET, SOCK_DGRAM);
    uint64_t cookie = 0;
    socklen_t len = sizeof(cookie);
    int rc = ::getsockopt(fd, SOL_SOCKET, 71 /* SO_NETNS_COOKIE */, &cookie, &len);
    ::close(fd);
    if (rc != 0) throw std::runtime_error(std::string("SO_NETNS_COOKIE: ") + std::strerror(errno));
    return cookie;
  }

  // The cgroup id (bpf_get_current_cgroup_id) of the child cgroup: its inode.
  uint64_t cgroup_id() const {
    struct stat st {};
    if (::fstat(cg_->fd(), &st) != 0) throw std::runtime_error("fstat cgroup");
    return st.st_ino;
  }

  // A socket made in the namespace by this process (so in the cgroup).
  int make_socket(int family, int type) {
    int fd = -1;
    run_in_netns(ns_->name(), [&] { fd = ::socket(family, type | SOCK_CLOEXEC, 0); });
    if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    return fd;
  }

  ConnectResult tcp_connect(const IpAddr& dst, uint16_t port, bool v4_mapped = false) {
    ConnectResult r;
    int fd = make_socket(dst.v6 || v4_mapped ? AF_INET6 : AF_INET, SOCK_STREAM);
    socklen_t len;
    sockaddr_storage ss = v4_mapped ? mapped(dst, port, len) : sockaddr_of(dst, port, len);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
      r.err = errno;
      ::close(fd);
      return r;
    }
    sockaddr_storage peer{};
    socklen_t plen = sizeof(peer);
    ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &plen);
    std::tie(r.peer, r.peer_port) = addr_of(peer);
    pollfd p{fd, POLLIN, 0};
    char buf[128];
    if (::poll(&p, 1, 5000) == 1) {
      ssize_t n = ::read(fd, buf, sizeof(buf));
      if (n > 0) r.reply.assign(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return r;
  }

  static sockaddr_storage mapped(const IpAddr& v4, uint16_t port, socklen_t& len) {
    sockaddr_storage ss{};
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(port);
    s6->sin6_addr.s6_addr[10] = s6->sin6_addr.s6_addr[11] = 0xff;
    std::memcpy(&s6->sin6_addr.s6_addr[12], v4.bytes.data(), 4);
    len = sizeof(sockaddr_in6);
    return ss;
  }

  IpAddr fe4 = ip("10.96.0.10"), fe4_empty = ip("10.96.0.11"), fe6 = ip("fd00:96::10");
  IpAddr be4a = ip("10.10.0.2"), be4b = ip("10.10.0.3"), be6 = ip("fd00:10::2");

  TestPinDir pin_;  // removed last
  std::unique_ptr<Netns> ns_;
  std::unique_ptr<ChildCgroup> cg_;
  std::unique_ptr<LbMaps> lb_;
  std::unique_ptr<SockLb> sock_;
};

TEST_F(DatapathSockNetnsTest, ConnectReachesTheBackendAndGetpeernameShowsTheFrontend) {
  TcpEcho s4(ns_->name(), be4a, 8080), s6(ns_->name(), be6, 8080);
  lb_->backend(1, be4a, 8080, kTcp);
  lb_->backend(2, be6, 8080, kTcp);
  lb_->service({fe4, 80, kTcp}, 10, {1});
  lb_->service({fe6, 80, kTcp}, 11, {2});

  auto r4 = tcp_connect(fe4, 80);
  ASSERT_EQ(r4.err, 0) << std::strerror(r4.err);
  EXPECT_EQ(r4.reply, "10.10.0.2 8080") << "the backend took the connection";
  EXPECT_EQ(r4.peer, fe4);
  EXPECT_EQ(r4.peer_port, 80);

  auto r6 = tcp_connect(fe6, 80);
  ASSERT_EQ(r6.err, 0) << std::strerror(r6.err);
  EXPECT_EQ(r6.reply, "fd00:10::2 8080");
  EXPECT_EQ(r6.peer, fe6);
  EXPECT_EQ(r6.peer_port, 80);

  // A v6 socket naming the IPv4 frontend as ::ffff:10.96.0.10.
  auto rm = tcp_connect(fe4, 80, true);
  ASSERT_EQ(rm.err, 0) << std::strerror(rm.err);
  EXPECT_EQ(rm.reply, "10.10.0.2 8080");
  EXPECT_EQ(rm.peer, ip("::ffff:10.96.0.10"));

  // Without the service entry the frontend is just an address nobody has.
  lb_->service({fe4, 81, kTcp}, 12, {1});
  EXPECT_NE(tcp_connect(fe4, 82).err, 0);
}

TEST_F(DatapathSockNetnsTest, UdpRepliesComeFromTheFrontend) {
  UdpEcho s(ns_->name(), be4a, 5353);
  lb_->backend(3, be4a, 5353, kUdp);
  lb_->service({fe4, 53, kUdp}, 20, {3});

  int fd = make_socket(AF_INET, SOCK_DGRAM);
  socklen_t len;
  auto dst = sockaddr_of(fe4, 53, len);
  for (int i = 0; i < 3; ++i) {
    std::string msg = "query " + std::to_string(i);
    ASSERT_EQ(::sendto(fd, msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&dst), len),
              static_cast<ssize_t>(msg.size()))
        << std::strerror(errno);
    pollfd p{fd, POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 5000), 1) << "no echo from the backend";
    char buf[64];
    sockaddr_storage from{};
    socklen_t flen = sizeof(from);
    ssize_t n = ::recvfrom(fd, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &flen);
    ASSERT_EQ(std::string(buf, static_cast<size_t>(std::max<ssize_t>(n, 0))), msg);
    auto [a, port] = addr_of(from);
    EXPECT_EQ(a, fe4) << "recvmsg shows the frontend";
    EXPECT_EQ(port, 53);
  }
  ::close(fd);
}

TEST_F(DatapathSockNetnsTest, AffinityKeepsTheNamespaceOnOneBackend) {
  TcpEcho a(ns_->name(), be4a, 8080), b(ns_->name(), be4b, 8080);
  lb_->backend(1, be4a, 8080, kTcp);
  lb_->backend(2, be4b, 8080, kTcp);
  lb_->service({fe4, 80, kTcp}, 30, {1, 2});
  std::set<std::string> seen;
  for (int i = 0; i < 24; ++i) seen.insert(tcp_connect(fe4, 80).reply);
  EXPECT_EQ(seen.size(), 2u) << "without affinity both backends serve (2^-23 to fail)";

  lb_->service({fe4, 80, kTcp}, 30, {1, 2}, CPP_LB_F_CLUSTERIP | CPP_LB_F_AFFINITY, 300);
  seen.clear();
  for (int i = 0; i < 24; ++i) seen.insert(tcp_connect(fe4, 80).reply);
  EXPECT_EQ(seen.size(), 1u);
}

TEST_F(DatapathSockNetnsTest, NoBackendRefusesTheConnection) {
  lb_->service({fe4_empty, 80, kTcp}, 40, {});
  lb_->service({fe4_empty, 53, kUdp}, 41, {});
  EXPECT_EQ(tcp_connect(fe4_empty, 80).err, ECONNREFUSED);

  int fd = make_socket(AF_INET, SOCK_DGRAM);
  socklen_t len;
  auto dst = sockaddr_of(fe4_empty, 53, len);
  EXPECT_EQ(::sendto(fd, "x", 1, 0, reinterpret_cast<sockaddr*>(&dst), len), -1);
  EXPECT_EQ(errno, ECONNREFUSED);
  ::close(fd);

  // service-no-backend-response: drop. The hook refuses: EPERM.
  load(false);
  EXPECT_EQ(tcp_connect(fe4_empty, 80).err, EPERM);
}

// A connect() to a frontend is traced before and after translation, the
// getpeername() that follows before and after reverse translation: four
// events of one socket, naming its cgroup and namespace.
TEST_F(DatapathSockNetnsTest, TranslationsAreTracedAsTraceSockEvents) {
  TcpEcho s4(ns_->name(), be4a, 8080), s6(ns_->name(), be6, 8080);
  lb_->backend(1, be4a, 8080, kTcp);
  lb_->backend(2, be6, 8080, kTcp);
  lb_->service({fe4, 80, kTcp}, 10, {1});
  lb_->service({fe6, 80, kTcp}, 11, {2});
  ASSERT_EQ(tcp_connect(fe4, 80).reply, be4a.str() + " 8080");

  auto evs = sock_events();
  ASSERT_EQ(evs.size(), 4u);
  const uint8_t points[] = {CPP_XLATE_PRE_FWD, CPP_XLATE_POST_FWD, CPP_XLATE_PRE_REV, CPP_XLATE_POST_REV};
  const IpAddr dsts[] = {fe4, be4a, be4a, fe4};
  const uint16_t ports[] = {80, 8080, 8080, 80};
  for (size_t i = 0; i < evs.size(); ++i) {
    const auto& e = evs[i];
    SCOPED_TRACE(i);
    EXPECT_EQ(e.obs_point, points[i]);
    EXPECT_EQ(e.daddr, dsts[i]);
    EXPECT_EQ(e.dport, ports[i]);
    EXPECT_EQ(e.protocol, kTcp);
    EXPECT_TRUE(e.xlated());
    EXPECT_EQ(e.orig_daddr, fe4);
    EXPECT_EQ(e.orig_dport, 80);
    EXPECT_NE(e.sock_cookie, 0u);
    EXPECT_EQ(e.sock_cookie, evs[0].sock_cookie) << "one socket";
    EXPECT_EQ(e.cgroup_id, cgroup_id());
    EXPECT_EQ(e.netns_cookie, netns_cookie());
    EXPECT_GT(e.ts_ns, 0u);
  }

  ASSERT_EQ(tcp_connect(fe6, 80).reply, be6.str() + " 8080");
  evs = sock_events();
  ASSERT_EQ(evs.size(), 4u);
  EXPECT_EQ(evs[0].daddr, fe6);
  EXPECT_EQ(evs[1].daddr, be6);
  EXPECT_EQ(evs[1].orig_daddr, fe6);

  // Addresses that are no frontend are not traced.
  TcpEcho direct(ns_->name(), be4b, 9090);
  ASSERT_EQ(tcp_connect(be4b, 9090).reply, be4b.str() + " 9090");
  EXPECT_TRUE(sock_events().empty());
}

TEST_F(DatapathSockNetnsTest, UdpRepliesAreTracedOnRecvmsg) {
  UdpEcho s(ns_->name(), be4a, 5353);
  lb_->backend(1, be4a, 5353, kUdp);
  lb_->service({fe4, 53, kUdp}, 20, {1});
  int fd = make_socket(AF_INET, SOCK_DGRAM);
  socklen_t len;
  auto dst = sockaddr_of(fe4, 53, len);
  ASSERT_EQ(::sendto(fd, "q", 1, 0, reinterpret_cast<sockaddr*>(&dst), len), 1);
  pollfd p{fd, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1);
  char buf[8];
  sockaddr_storage from{};
  socklen_t flen = sizeof(from);
  ASSERT_EQ(::recvfrom(fd, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &flen), 1);
  ::close(fd);
  auto evs = sock_events();
  ASSERT_EQ(evs.size(), 4u);
  EXPECT_EQ(evs[0].obs_point, CPP_XLATE_PRE_FWD);
  EXPECT_EQ(evs[1].obs_point, CPP_XLATE_POST_FWD);
  EXPECT_EQ(evs[2].obs_point, CPP_XLATE_PRE_REV);
  EXPECT_EQ(evs[3].obs_point, CPP_XLATE_POST_REV);
  EXPECT_EQ(evs[3].daddr, fe4);
  EXPECT_EQ(evs[3].dport, 53);
  for (const auto& e : evs) EXPECT_EQ(e.protocol, kUdp);
}

TEST_F(DatapathSockNetnsTest, TracingOffSendsNoEvents) {
  load(true, false);
  TcpEcho s4(ns_->name(), be4a, 8080);
  lb_->backend(1, be4a, 8080, kTcp);
  lb_->service({fe4, 80, kTcp}, 10, {1});
  ASSERT_EQ(tcp_connect(fe4, 80).reply, be4a.str() + " 8080");
  EXPECT_TRUE(sock_events().empty());
}

}  // namespace
}  // namespace cpp::bpftest
