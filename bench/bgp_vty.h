#pragma once
// FRR daemons' vty socket, for the BGP benchmarks: one connection that
// answers show commands in well under a millisecond (a vtysh process costs
// ~200 ms of CPU to start here, far too slow to poll with).
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace cpp::bench {

// Wall clock in ns since the epoch: comparable with `date +%s%N`.
inline int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One connection to a daemon's vty socket. A command is sent NUL-terminated;
// the daemon answers with its output followed by three NUL bytes and a
// status byte (0 = success), as vtysh expects.
class Vty {
 public:
  explicit Vty(const std::string& path) {
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (fd_ < 0 || path.size() >= sizeof(sa.sun_path))
      throw std::runtime_error("cannot open a socket for " + path);
    std::memcpy(sa.sun_path, path.c_str(), path.size());
    if (connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0)
      throw std::runtime_error("cannot connect to " + path + ": " + std::strerror(errno));
  }
  ~Vty() { close(fd_); }
  Vty(const Vty&) = delete;
  Vty& operator=(const Vty&) = delete;

  // Output of a show command with `json`, parsed.
  nlohmann::json query(const std::string& cmd) { return nlohmann::json::parse(run(cmd)); }

  std::string run(const std::string& cmd) {
    const std::string out = cmd + '\0';
    for (size_t off = 0; off < out.size();) {
      ssize_t n = send(fd_, out.data() + off, out.size() - off, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("vty send failed: " + std::string(std::strerror(errno)));
      off += static_cast<size_t>(n);
    }
    std::string buf;
    char chunk[65536];
    while (buf.size() < 4 || buf.compare(buf.size() - 4, 3, std::string(3, '\0')) != 0) {
      ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
      if (n <= 0) throw std::runtime_error("vty closed while answering '" + cmd + "'");
      buf.append(chunk, static_cast<size_t>(n));
    }
    if (buf.back() != 0) throw std::runtime_error("bgpd refused '" + cmd + "': " + buf.substr(0, buf.size() - 4));
    buf.resize(buf.size() - 4);
    return buf;
  }

 private:
  int fd_ = -1;
};

// True when bgpd's RIB holds a path for PREFIX ("a.b.c.d/n" or "x::/n").
inline bool frr_has(Vty& vty, const std::string& prefix) {
  const bool v6 = prefix.find(':') != std::string::npos;
  const auto r = vty.query(std::string("show bgp ") + (v6 ? "ipv6" : "ipv4") + " unicast " + prefix + " json");
  return r.contains("paths") && !r["paths"].empty();
}

}  // namespace cpp::bench
