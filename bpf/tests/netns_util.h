#pragma once
// Helpers for tests that build nodes and pods out of network namespaces
// (brief section 5): shell commands, entering a namespace from a thread,
// socket addresses.
#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "common/ip.h"

namespace cpp::bpftest {

struct CmdResult {
  int status = -1;  // exit code, or -1 if it didn't exit normally
  std::string output;
};

// Runs `sh -c cmd`, stdout and stderr combined.
CmdResult sh(const std::string& cmd);
// As sh(), throwing std::runtime_error with the output when it fails.
std::string must(const std::string& cmd);

// "nsenter --net=/run/netns/<ns> " — unlike `ip netns exec`, nsenter
// leaves /sys (and /sys/fs/bpf) alone.
std::string in_ns(const std::string& ns);

// Runs fn on a thread that has entered /run/netns/<ns>; the caller's own
// namespace is never changed. Exceptions propagate.
void run_in_netns(const std::string& ns, const std::function<void()>& fn);

// The sockaddr_in/sockaddr_in6 for a:port; its size in len.
sockaddr_storage sockaddr_of(const IpAddr& a, uint16_t port, socklen_t& len);

// A socket created inside namespace ns (it stays in that namespace whichever
// thread uses it), SO_REUSEADDR, bound to addr:port and, for TCP, listening
// with the given backlog. Throws std::runtime_error naming the failed call.
int bound_socket(const std::string& ns, const IpAddr& addr, uint16_t port, bool udp = false, int backlog = 16);

// Serves socket fd on a thread with serve(fd, stop_fd), which must return
// once stop_fd (an eventfd) is readable. The destructor signals stop_fd,
// joins the thread and closes both.
class SocketServer {
 public:
  SocketServer(int fd, std::function<void(int fd, int stop_fd)> serve);
  ~SocketServer();
  SocketServer(const SocketServer&) = delete;
  SocketServer& operator=(const SocketServer&) = delete;

 private:
  int fd_, stop_fd_;
  std::thread thread_;
};

}  // namespace cpp::bpftest
