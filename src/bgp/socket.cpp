#include "bgp/socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace cpp::bgp {

namespace {

[[noreturn]] void fail(const std::string& what) { throw std::system_error(errno, std::generic_category(), what); }

socklen_t to_sockaddr(const IpAddr& a, uint16_t port, sockaddr_storage& ss) {
  std::memset(&ss, 0, sizeof ss);
  if (a.v6) {
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(port);
    std::memcpy(&s6->sin6_addr, a.bytes.data(), 16);
    return sizeof(sockaddr_in6);
  }
  auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
  s4->sin_family = AF_INET;
  s4->sin_port = htons(port);
  std::memcpy(&s4->sin_addr, a.bytes.data(), 4);
  return sizeof(sockaddr_in);
}

std::optional<IpAddr> from_sockaddr(const sockaddr_storage& ss) {
  IpAddr a;
  if (ss.ss_family == AF_INET) {
    std::memcpy(a.bytes.data(), &reinterpret_cast<const sockaddr_in*>(&ss)->sin_addr, 4);
    return a;
  }
  if (ss.ss_family != AF_INET6) return std::nullopt;
  const auto* b = reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_addr.s6_addr;
  static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(b, kMapped, 12) == 0) {
    std::memcpy(a.bytes.data(), b + 12, 4);
    return a;
  }
  a.v6 = true;
  std::memcpy(a.bytes.data(), b, 16);
  return a;
}

}  // namespace

void set_md5(int fd, const IpAddr& peer, const std::string& key) {
  if (key.size() > TCP_MD5SIG_MAXKEYLEN) {
    errno = EINVAL;
    fail("TCP MD5 key for " + peer.str() + " longer than " + std::to_string(TCP_MD5SIG_MAXKEYLEN) + " bytes");
  }
  tcp_md5sig sig{};
  sockaddr_storage ss;
  // A dual-stack listener sees IPv4 peers as IPv4-mapped IPv6 addresses.
  sockaddr_storage self;
  socklen_t len = sizeof self;
  bool v6_socket = getsockname(fd, reinterpret_cast<sockaddr*>(&self), &len) == 0 && self.ss_family == AF_INET6;
  if (v6_socket && !peer.v6) {
    IpAddr mapped;
    mapped.v6 = true;
    mapped.bytes[10] = mapped.bytes[11] = 0xff;
    std::memcpy(mapped.bytes.data() + 12, peer.bytes.data(), 4);
    to_sockaddr(mapped, 0, ss);
  } else {
    to_sockaddr(peer, 0, ss);
  }
  std::memcpy(&sig.tcpm_addr, &ss, sizeof ss);
  sig.tcpm_keylen = static_cast<uint16_t>(key.size());
  std::memcpy(sig.tcpm_key, key.data(), key.size());
  if (setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &sig, sizeof sig) != 0)
    fail("setsockopt(TCP_MD5SIG) for " + peer.str());
}

void set_ttl(int fd, bool v6, uint8_t ttl) {
  int v = ttl;
  int rc = v6 ? setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &v, sizeof v)
              : setsockopt(fd, IPPROTO_IP, IP_TTL, &v, sizeof v);
  if (rc != 0) fail(v6 ? "setsockopt(IPV6_UNICAST_HOPS)" : "setsockopt(IP_TTL)");
}

int start_connect(const IpAddr& peer, uint16_t port, const std::optional<IpAddr>& local, const std::string& md5,
                  uint8_t ttl) {
  int fd = socket(peer.v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket");
  try {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (local) {
      sockaddr_storage ss;
      socklen_t len = to_sockaddr(*local, 0, ss);
      if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) fail("bind to " + local->str());
    }
    if (!md5.empty()) set_md5(fd, peer, md5);
    set_ttl(fd, peer.v6, ttl);
    sockaddr_storage ss;
    socklen_t len = to_sockaddr(peer, port, ss);
    if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 && errno != EINPROGRESS)
      fail("connect to " + peer.str() + " port " + std::to_string(port));
  } catch (...) {
    close(fd);
    throw;
  }
  return fd;
}

int connect_result(int fd) {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
  return err;
}

int listen_on(int port) {
  int fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket");
  int zero = 0, one = 1;
  setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  // Accepted sessions inherit it, as connected ones set it: with Nagle the
  // tail of a burst of UPDATEs waits for the peer's delayed ACK (40 ms).
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_port = htons(static_cast<uint16_t>(port));
  a.sin6_addr = in6addr_any;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd, 16) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    fail("listen on port " + std::to_string(port));
  }
  return fd;
}

uint16_t bound_port(int fd) {
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) fail("getsockname");
  return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
}

std::optional<IpAddr> local_address(int fd) {
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return std::nullopt;
  return from_sockaddr(ss);
}

std::optional<IpAddr> remote_address(int fd) {
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return std::nullopt;
  return from_sockaddr(ss);
}

}  // namespace cpp::bgp
