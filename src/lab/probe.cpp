#include "lab/probe.h"

#include "netlink/netns.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <thread>

#include "common/ip.h"
#include "lab/netns.h"
#include "lab/proc.h"

namespace cpp::lab {

namespace {

using Clock = std::chrono::steady_clock;

// ---- server side (runs in a forked child: only plain system calls) -----------

void report(int fd, const char* stage, int err) {
  char buf[160];
  int n = err ? std::snprintf(buf, sizeof(buf), "ERR %s: %s", stage, std::strerror(err))
              : std::snprintf(buf, sizeof(buf), "OK");
  ssize_t w = ::write(fd, buf, static_cast<size_t>(n));
  (void)w;
}

int listen_socket(int family, int type, uint16_t port, int* err) {
  int fd = ::socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    *err = errno;
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  int rc;
  if (family == AF_INET6) {
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (type == SOCK_DGRAM) ::setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
    sockaddr_in6 sa{};
    sa.sin6_family = AF_INET6;
    sa.sin6_port = htons(port);
    sa.sin6_addr = in6addr_any;
    rc = ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
  } else {
    if (type == SOCK_DGRAM) ::setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_ANY);
    rc = ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
  }
  if (rc == 0 && type == SOCK_STREAM) rc = ::listen(fd, 64);
  if (rc != 0) {
    *err = errno;
    ::close(fd);
    return -1;
  }
  return fd;
}

// Echoes one datagram back from the address it was sent to (the namespace may
// own several addresses; the client's connected socket only accepts replies
// from the one it sent to).
void udp_echo(int fd, bool v6) {
  char data[2048];
  char ctrl[256];
  sockaddr_storage peer{};
  iovec iov{data, sizeof(data)};
  msghdr msg{};
  msg.msg_name = &peer;
  msg.msg_namelen = sizeof(peer);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctrl;
  msg.msg_controllen = sizeof(ctrl);
  ssize_t n = ::recvmsg(fd, &msg, 0);
  if (n < 0) return;

  char out_ctrl[256] = {};
  msghdr reply{};
  iovec riov{data, static_cast<size_t>(n)};
  reply.msg_name = &peer;
  reply.msg_namelen = msg.msg_namelen;
  reply.msg_iov = &riov;
  reply.msg_iovlen = 1;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (!v6 && c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      in_pktinfo in{};
      std::memcpy(&in, CMSG_DATA(c), sizeof(in));
      in_pktinfo outp{};
      outp.ipi_spec_dst = in.ipi_addr;
      reply.msg_control = out_ctrl;
      reply.msg_controllen = CMSG_SPACE(sizeof(outp));
      cmsghdr* oc = CMSG_FIRSTHDR(&reply);
      oc->cmsg_level = IPPROTO_IP;
      oc->cmsg_type = IP_PKTINFO;
      oc->cmsg_len = CMSG_LEN(sizeof(outp));
      std::memcpy(CMSG_DATA(oc), &outp, sizeof(outp));
    } else if (v6 && c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      in6_pktinfo in{};
      std::memcpy(&in, CMSG_DATA(c), sizeof(in));
      reply.msg_control = out_ctrl;
      reply.msg_controllen = CMSG_SPACE(sizeof(in));
      cmsghdr* oc = CMSG_FIRSTHDR(&reply);
      oc->cmsg_level = IPPROTO_IPV6;
      oc->cmsg_type = IPV6_PKTINFO;
      oc->cmsg_len = CMSG_LEN(sizeof(in));
      std::memcpy(CMSG_DATA(oc), &in, sizeof(in));
    }
  }
  ssize_t w = ::sendmsg(fd, &reply, 0);
  (void)w;
}

constexpr char kWhoami[] = "WHOAMI\n";

// The peer address of an accepted connection, IPv4-mapped IPv6 shown as IPv4.
void peer_text(const sockaddr_storage& ss, char (&out)[INET6_ADDRSTRLEN]) {
  out[0] = 0;
  if (ss.ss_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(ss).sin_addr, out, sizeof(out));
  } else if (ss.ss_family == AF_INET6) {
    const auto& a = reinterpret_cast<const sockaddr_in6&>(ss).sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(&a))
      ::inet_ntop(AF_INET, &a.s6_addr[12], out, sizeof(out));
    else
      ::inet_ntop(AF_INET6, &a, out, sizeof(out));
  }
}

[[noreturn]] void serve(int ready_fd, int ctl_fd, uint16_t port) {
  int err = 0;
  int t4 = listen_socket(AF_INET, SOCK_STREAM, port, &err);
  if (t4 < 0) report(ready_fd, "tcp/ipv4 listen", err), _exit(1);
  int u4 = listen_socket(AF_INET, SOCK_DGRAM, port, &err);
  if (u4 < 0) report(ready_fd, "udp/ipv4 bind", err), _exit(1);
  // IPv6 may be disabled in the namespace; the IPv6 probes then fail with a clear reason.
  int t6 = listen_socket(AF_INET6, SOCK_STREAM, port, &err);
  int u6 = t6 >= 0 ? listen_socket(AF_INET6, SOCK_DGRAM, port, &err) : -1;
  report(ready_fd, "", 0);
  ::close(ready_fd);

  constexpr int kMaxConns = 64;
  int conns[kMaxConns];
  char peers[kMaxConns][INET6_ADDRSTRLEN];
  for (int& c : conns) c = -1;
  for (;;) {
    pollfd fds[5 + kMaxConns];
    int nf = 0;
    fds[nf++] = {ctl_fd, POLLIN, 0};
    fds[nf++] = {t4, POLLIN, 0};
    fds[nf++] = {u4, POLLIN, 0};
    fds[nf++] = {t6, POLLIN, 0};  // poll ignores negative fds
    fds[nf++] = {u6, POLLIN, 0};
    for (int c : conns) fds[nf++] = {c, POLLIN, 0};
    if (::poll(fds, static_cast<nfds_t>(nf), -1) < 0) {
      if (errno == EINTR) continue;
      _exit(2);
    }
    if (fds[0].revents) _exit(0);  // parent closed the control pipe (or died)
    for (int i : {1, 3}) {
      if (!(fds[i].revents & POLLIN)) continue;
      sockaddr_storage peer{};
      socklen_t plen = sizeof(peer);
      int c = ::accept4(fds[i].fd, reinterpret_cast<sockaddr*>(&peer), &plen, SOCK_CLOEXEC);
      if (c < 0) continue;
      bool placed = false;
      for (int k = 0; k < kMaxConns; ++k)
        if (conns[k] < 0) {
          conns[k] = c;
          peer_text(peer, peers[k]);
          placed = true;
          break;
        }
      if (!placed) ::close(c);
    }
    if (fds[2].revents & POLLIN) udp_echo(u4, false);
    if (fds[4].revents & POLLIN) udp_echo(u6, true);
    for (int k = 0; k < kMaxConns; ++k) {
      if (conns[k] < 0 || !fds[5 + k].revents) continue;
      char buf[4096];
      ssize_t n = ::read(conns[k], buf, sizeof(buf));
      if (n <= 0) {
        ::close(conns[k]);
        conns[k] = -1;
        continue;
      }
      // The whoami request: answer with the address the connection came
      // from, so a test can see what a NAT on the way did to the source.
      if (n == static_cast<ssize_t>(sizeof(kWhoami) - 1) && std::memcmp(buf, kWhoami, sizeof(kWhoami) - 1) == 0)
        n = std::snprintf(buf, sizeof(buf), "%s\n", peers[k]);
      ssize_t off = 0;
      while (off < n) {
        ssize_t w = ::write(conns[k], buf + off, static_cast<size_t>(n - off));
        if (w <= 0) break;
        off += w;
      }
    }
  }
}

// ---- client side ---------------------------------------------------------------

std::string new_token() {
  static std::atomic<unsigned> counter{0};
  static const uint64_t salt = std::random_device{}();
  return "cilium-lab-probe-" + std::to_string(salt % 1000000) + "-" + std::to_string(++counter) + "\n";
}

bool make_sockaddr(const std::string& addr, uint16_t port, sockaddr_storage& ss, socklen_t& len, int& family) {
  auto a = IpAddr::parse(addr);
  if (!a) return false;
  std::memset(&ss, 0, sizeof(ss));
  if (a->v6) {
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(port);
    std::memcpy(&s6->sin6_addr, a->bytes.data(), 16);
    len = sizeof(sockaddr_in6);
    family = AF_INET6;
  } else {
    auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
    s4->sin_family = AF_INET;
    s4->sin_port = htons(port);
    std::memcpy(&s4->sin_addr, a->bytes.data(), 4);
    len = sizeof(sockaddr_in);
    family = AF_INET;
  }
  return true;
}

int ms_left(Clock::time_point deadline) {
  auto d = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return d < 0 ? 0 : static_cast<int>(d);
}

std::string secs(std::chrono::milliseconds t) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f s", static_cast<double>(t.count()) / 1000.0);
  return buf;
}

// Sends `request` and reads one line back; with an empty request, a fresh
// token that must be echoed.
ProbeOutcome tcp_once(const std::string& addr, uint16_t port, std::chrono::milliseconds timeout,
                      const std::string& request = "") {
  sockaddr_storage ss;
  socklen_t len;
  int family;
  if (!make_sockaddr(addr, port, ss, len, family)) return {false, "bad address " + addr};
  int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return {false, std::string("socket: ") + std::strerror(errno)};
  auto deadline = Clock::now() + timeout;
  auto fail = [&](const std::string& why) {
    ::close(fd);
    return ProbeOutcome{false, why};
  };
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 && errno != EINPROGRESS)
    return fail(std::string("connect: ") + std::strerror(errno));
  pollfd p{fd, POLLOUT, 0};
  if (::poll(&p, 1, ms_left(deadline)) <= 0) return fail("connect: timed out after " + secs(timeout));
  int soerr = 0;
  socklen_t sl = sizeof(soerr);
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
  if (soerr != 0) return fail(std::string("connect: ") + std::strerror(soerr));
  std::string token = request.empty() ? new_token() : request;
  if (::send(fd, token.data(), token.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(token.size()))
    return fail(std::string("send: ") + std::strerror(errno));
  std::string got;
  while (request.empty() ? got.size() < token.size() : got.find('\n') == std::string::npos) {
    pollfd r{fd, POLLIN, 0};
    if (::poll(&r, 1, ms_left(deadline)) <= 0) return fail("no echo within " + secs(timeout));
    char buf[256];
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n == 0) return fail("connection closed before the echo");
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return fail(std::string("recv: ") + std::strerror(errno));
    }
    got.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  if (!request.empty()) return {true, got.substr(0, got.find('\n'))};
  if (got != token) return {false, "echo mismatch"};
  return {true, ""};
}

ProbeOutcome udp_once(const std::string& addr, uint16_t port, std::chrono::milliseconds timeout) {
  sockaddr_storage ss;
  socklen_t len;
  int family;
  if (!make_sockaddr(addr, port, ss, len, family)) return {false, "bad address " + addr};
  int fd = ::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return {false, std::string("socket: ") + std::strerror(errno)};
  auto fail = [&](const std::string& why) {
    ::close(fd);
    return ProbeOutcome{false, why};
  };
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0)
    return fail(std::string("connect: ") + std::strerror(errno));
  std::string token = new_token();
  if (::send(fd, token.data(), token.size(), 0) < 0) return fail(std::string("send: ") + std::strerror(errno));
  auto deadline = Clock::now() + timeout;
  for (;;) {
    pollfd r{fd, POLLIN, 0};
    if (::poll(&r, 1, ms_left(deadline)) <= 0) return fail("no echo within " + secs(timeout));
    char buf[2048];
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(std::string("recv: ") + std::strerror(errno));
    }
    if (std::string(buf, static_cast<size_t>(n)) == token) break;
  }
  ::close(fd);
  return {true, ""};
}

ProbeOutcome with_retries(int attempts, const std::function<ProbeOutcome()>& once) {
  ProbeOutcome out;
  for (int i = 0; i < attempts; ++i) {
    out = once();
    if (out.ok) {
      if (i > 0) out.detail = "ok on attempt " + std::to_string(i + 1);
      return out;
    }
    if (i + 1 < attempts) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (attempts > 1) out.detail += " (" + std::to_string(attempts) + " attempts)";
  return out;
}

}  // namespace

EchoServer::~EchoServer() { stop(); }

bool EchoServer::start(const std::string& netns_path, uint16_t port) {
  port_ = port;
  int nsfd = ::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (nsfd < 0) {
    error_ = "open " + netns_path + ": " + std::strerror(errno);
    return false;
  }
  int ready[2], ctl[2];
  if (::pipe2(ready, O_CLOEXEC) != 0 || ::pipe2(ctl, O_CLOEXEC) != 0) {
    error_ = std::string("pipe: ") + std::strerror(errno);
    ::close(nsfd);
    return false;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    error_ = std::string("fork: ") + std::strerror(errno);
    return false;
  }
  if (pid == 0) {
    // Keep only what this server needs: an inherited control pipe of an
    // earlier server would keep that one alive after its owner closed it.
    for (int fd = 3; fd < 1024; ++fd)
      if (fd != ready[1] && fd != ctl[0] && fd != nsfd) ::close(fd);
    ::signal(SIGPIPE, SIG_IGN);
    if (::setns(nsfd, CLONE_NEWNET) != 0) report(ready[1], "setns", errno), _exit(1);
    serve(ready[1], ctl[0], port);
  }
  ::close(nsfd);
  ::close(ready[1]);
  ::close(ctl[0]);
  pid_ = pid;
  ctl_fd_ = ctl[1];
  char buf[200] = {};
  pollfd p{ready[0], POLLIN, 0};
  ssize_t n = 0;
  if (::poll(&p, 1, 5000) > 0) n = ::read(ready[0], buf, sizeof(buf) - 1);
  ::close(ready[0]);
  std::string msg(buf, n > 0 ? static_cast<size_t>(n) : 0);
  if (msg != "OK") {
    error_ = msg.empty() ? "echo server did not start" : "echo server: " + msg.substr(msg.rfind("ERR ", 0) == 0 ? 4 : 0);
    stop();
    return false;
  }
  return true;
}

void EchoServer::stop() {
  if (ctl_fd_ >= 0) {
    ::close(ctl_fd_);
    ctl_fd_ = -1;
  }
  if (pid_ > 0) {
    // Closing the pipe ends the child; SIGKILL if it does not go within 2 s.
    auto deadline = Clock::now() + std::chrono::seconds(2);
    int st;
    while (::waitpid(pid_, &st, WNOHANG) == 0) {
      if (Clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &st, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
  }
}

ProbeOutcome probe_tcp(const std::string& netns_path, const std::string& addr, uint16_t port,
                       std::chrono::milliseconds timeout, int attempts) {
  return with_retries(attempts, [&] {
    ProbeOutcome o;
    try {
      cpp::run_in_netns(cpp::NetnsHandle::open_path(netns_path), [&] { o = tcp_once(addr, port, timeout); });
    } catch (const std::exception& e) {
      o = {false, e.what()};
    }
    return o;
  });
}

ProbeOutcome probe_tcp_source(const std::string& netns_path, const std::string& addr, uint16_t port,
                              std::chrono::milliseconds timeout, int attempts) {
  return with_retries(attempts, [&] {
    ProbeOutcome o;
    try {
      cpp::run_in_netns(cpp::NetnsHandle::open_path(netns_path),
                        [&] { o = tcp_once(addr, port, timeout, kWhoami); });
    } catch (const std::exception& e) {
      o = {false, e.what()};
    }
    return o;
  });
}

ProbeOutcome probe_udp(const std::string& netns_path, const std::string& addr, uint16_t port,
                       std::chrono::milliseconds timeout, int attempts) {
  return with_retries(attempts, [&] {
    ProbeOutcome o;
    try {
      cpp::run_in_netns(cpp::NetnsHandle::open_path(netns_path), [&] { o = udp_once(addr, port, timeout); });
    } catch (const std::exception& e) {
      o = {false, e.what()};
    }
    return o;
  });
}

ProbeOutcome probe_icmp(const std::string& netns_path, const std::string& addr, int wait_s, int attempts) {
  return with_retries(attempts, [&] {
    try {
      RunOptions ro;
      ro.timeout = std::chrono::seconds(wait_s + 5);
      RunResult r = run({"nsenter", "--net=" + netns_path, "ping", "-n", "-q", "-c", "1", "-W",
                         std::to_string(wait_s), addr},
                        ro);
      if (r.exit_code == 0) return ProbeOutcome{true, ""};
      std::string text = r.err.empty() ? r.out : r.err;
      // The summary line ("1 packets transmitted, 0 received, 100% packet loss") says it best.
      std::string summary;
      size_t pos = text.find("packets transmitted");
      if (pos != std::string::npos) {
        size_t start = text.rfind('\n', pos);
        start = start == std::string::npos ? 0 : start + 1;
        summary = text.substr(start, text.find('\n', pos) - start);
      } else {
        summary = text;
        while (!summary.empty() && summary.back() == '\n') summary.pop_back();
      }
      if (summary.rfind("ping: ", 0) == 0) summary = summary.substr(6);
      return ProbeOutcome{false, "ping: " + (summary.empty() ? "exit " + std::to_string(r.exit_code) : summary)};
    } catch (const std::exception& e) {
      return ProbeOutcome{false, e.what()};
    }
  });
}

}  // namespace cpp::lab
