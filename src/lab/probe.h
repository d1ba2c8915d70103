#pragma once
// Traffic probes for `cilium-lab connectivity test`: an echo server forked
// into a namespace, and TCP/UDP/ICMP clients run from another namespace.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace cpp::lab {

// A forked child that joined a network namespace and echoes on TCP and UDP
// (IPv4 and IPv6) at one port. It exits when the parent closes its control
// pipe, so it never outlives cilium-lab.
class EchoServer {
 public:
  EchoServer() = default;
  ~EchoServer();
  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;

  // Forks and waits until the sockets are bound. Returns false (see error())
  // when the server could not start. Call before starting any thread.
  bool start(const std::string& netns_path, uint16_t port);
  void stop();
  bool running() const { return pid_ > 0; }
  const std::string& error() const { return error_; }
  uint16_t port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int ctl_fd_ = -1;
  uint16_t port_ = 0;
  std::string error_;
};

struct ProbeOutcome {
  bool ok = false;
  std::string detail;  // why it failed, or a short note on success
};

// Connects from inside netns_path to addr:port, sends a token and expects it back.
ProbeOutcome probe_tcp(const std::string& netns_path, const std::string& addr, uint16_t port,
                       std::chrono::milliseconds timeout, int attempts);
// Asks the echo server which source address it sees the connection from;
// on success the outcome's detail is that address.
ProbeOutcome probe_tcp_source(const std::string& netns_path, const std::string& addr, uint16_t port,
                              std::chrono::milliseconds timeout, int attempts);
ProbeOutcome probe_udp(const std::string& netns_path, const std::string& addr, uint16_t port,
                       std::chrono::milliseconds timeout, int attempts);
// `nsenter --net=<netns_path> ping -c 1 -W <s> addr`, retried.
ProbeOutcome probe_icmp(const std::string& netns_path, const std::string& addr, int wait_s, int attempts);

}  // namespace cpp::lab
