#include "health/probes.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/icmp.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "health/icmp_packet.h"

namespace cpp::health {
namespace {

using Clock = std::chrono::steady_clock;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

sockaddr_storage sockaddr_of(const IpAddr& a, int port, socklen_t& len) {
  sockaddr_storage ss{};
  if (a.v6) {
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(static_cast<uint16_t>(port));
    std::memcpy(&s6->sin6_addr, a.bytes.data(), 16);
    len = sizeof(sockaddr_in6);
  } else {
    auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
    s4->sin_family = AF_INET;
    s4->sin_port = htons(static_cast<uint16_t>(port));
    std::memcpy(&s4->sin_addr, a.bytes.data(), 4);
    len = sizeof(sockaddr_in);
  }
  return ss;
}

std::string errno_text(const char* step) { return std::string(step) + ": " + std::strerror(errno); }

int64_t ns_since(Clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count();
}

// Milliseconds left until deadline (0 when past).
int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

std::string timeout_text(const char* what, std::chrono::milliseconds t) {
  return std::string(what) + " within " + std::to_string(t.count()) + "ms";
}

// Concurrent probes share the namespace's raw ICMP traffic: each gets its own id.
uint16_t next_echo_id() {
  static std::atomic<uint32_t> counter{static_cast<uint32_t>(::getpid()) * 7919u};
  return static_cast<uint16_t>(counter.fetch_add(1));
}

}  // namespace

ProbeResult icmp_probe(const IpAddr& dst, std::chrono::milliseconds timeout) {
  Fd fd(::socket(dst.v6 ? AF_INET6 : AF_INET, SOCK_RAW | SOCK_CLOEXEC,
                 dst.v6 ? int{IPPROTO_ICMPV6} : int{IPPROTO_ICMP}));
  if (fd.get() < 0) return ProbeResult::failed(errno_text("raw ICMP socket"));
  if (dst.v6) {
    icmp6_filter f;
    ICMP6_FILTER_SETBLOCKALL(&f);
    ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
    ::setsockopt(fd.get(), IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof f);
  } else {
    icmp_filter f{~(1u << ICMP_ECHOREPLY)};
    ::setsockopt(fd.get(), SOL_RAW, ICMP_FILTER, &f, sizeof f);
  }
  socklen_t len = 0;
  auto sa = sockaddr_of(dst, 0, len);
  // A connected raw socket only receives packets from dst.
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), len) != 0) return ProbeResult::failed(errno_text("connect"));
  uint16_t id = next_echo_id(), seq = 1;
  auto pkt = echo_request(dst.v6, id, seq);
  auto t0 = Clock::now();
  auto deadline = t0 + timeout;
  if (::send(fd.get(), pkt.data(), pkt.size(), 0) < 0) return ProbeResult::failed(errno_text("send echo request"));
  uint8_t buf[1500];
  while (true) {
    pollfd p{fd.get(), POLLIN, 0};
    int n = ::poll(&p, 1, remaining_ms(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ProbeResult::failed(errno_text("poll"));
    if (n == 0) return ProbeResult::failed(timeout_text("no echo reply", timeout));
    ssize_t got = ::recv(fd.get(), buf, sizeof buf, 0);
    if (got < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return ProbeResult::failed(errno_text("receive"));
    }
    if (is_echo_reply(dst.v6, buf, static_cast<size_t>(got), id, seq)) return ProbeResult::ok(ns_since(t0));
  }
}

std::optional<int> parse_status_line(const std::string& line) {
  // "HTTP/1.1 200 OK"
  if (line.rfind("HTTP/", 0) != 0) return std::nullopt;
  auto sp = line.find(' ');
  if (sp == std::string::npos || line.size() < sp + 4) return std::nullopt;
  int code = 0;
  for (size_t i = sp + 1; i < sp + 4; ++i) {
    if (line[i] < '0' || line[i] > '9') return std::nullopt;
    code = code * 10 + (line[i] - '0');
  }
  if (line.size() > sp + 4 && line[sp + 4] != ' ' && line[sp + 4] != '\r') return std::nullopt;
  return code;
}

ProbeResult http_probe(const IpAddr& dst, int port, std::chrono::milliseconds timeout) {
  Fd fd(::socket(dst.v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (fd.get() < 0) return ProbeResult::failed(errno_text("socket"));
  socklen_t len = 0;
  auto sa = sockaddr_of(dst, port, len);
  auto t0 = Clock::now();
  auto deadline = t0 + timeout;
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), len) != 0 && errno != EINPROGRESS)
    return ProbeResult::failed(errno_text("connect"));
  pollfd p{fd.get(), POLLOUT, 0};
  int n;
  while ((n = ::poll(&p, 1, remaining_ms(deadline))) < 0 && errno == EINTR) {
  }
  if (n == 0) return ProbeResult::failed(timeout_text("no TCP connection", timeout));
  int err = 0;
  socklen_t elen = sizeof err;
  ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &elen);
  if (err != 0) return ProbeResult::failed(std::string("connect: ") + std::strerror(err));

  std::string host = dst.v6 ? "[" + dst.str() + "]" : dst.str();
  std::string req = "GET /hello HTTP/1.1\r\nHost: " + host + ":" + std::to_string(port) +
                    "\r\nUser-Agent: cilium-health\r\nConnection: close\r\n\r\n";
  if (::send(fd.get(), req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size()))
    return ProbeResult::failed(errno_text("send request"));
  std::string resp;
  char buf[512];
  while (resp.find("\r\n") == std::string::npos) {
    p = {fd.get(), POLLIN, 0};
    n = ::poll(&p, 1, remaining_ms(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ProbeResult::failed(timeout_text("no HTTP response", timeout));
    ssize_t got = ::recv(fd.get(), buf, sizeof buf, 0);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got < 0) return ProbeResult::failed(errno_text("receive"));
    if (got == 0) return ProbeResult::failed("connection closed before an HTTP response");
    resp.append(buf, static_cast<size_t>(got));
  }
  int64_t rtt = ns_since(t0);
  auto code = parse_status_line(resp.substr(0, resp.find("\r\n")));
  if (!code) return ProbeResult::failed("not an HTTP response");
  if (*code != 200) return ProbeResult::failed("HTTP status " + std::to_string(*code));
  return ProbeResult::ok(rtt);
}

}  // namespace cpp::health
