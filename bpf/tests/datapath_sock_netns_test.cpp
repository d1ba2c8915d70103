// Socket LB (bpf_sock_lb) with real sockets: the cgroup programs attached
// to a child cgroup /sys/fs/cgroup/unified/ciliumpp/test-<pid>-<rand>, this
// test process moved into it, servers and clients in a cpp-sk-* network
// namespace where the backends' addresses live on lo and no frontend
// address exists at all: a connection to a frontend only works if the
// socket layer translated it. Service maps filled by hand.
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
  SockLb(const std::string& pin_dir, int cgroup_fd, bool reject) {
    auto opts = pin_opts(pin_dir);
    skel_ = bpf_sock_lb::open(&opts);
    if (!skel_) throw std::runtime_error("bpf_sock_lb: open failed");
    skel_->rodata->ENABLE_LB = 1;
    skel_->rodata->LB_NO_BACKEND_REJECT = reject;
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

  void load(bool reject) {
    sock_.reset();
    sock_ = std::make_unique<SockLb>(pin_.path(), cg_->fd(), reject);
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

}  // namespace
}  // namespace cpp::bpftest
