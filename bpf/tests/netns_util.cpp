#include "netns_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <thread>

namespace cpp::bpftest {

CmdResult sh(const std::string& cmd) {
  CmdResult r;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) throw std::runtime_error("popen " + cmd + ": " + std::strerror(errno));
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) r.output.append(buf, n);
  int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string must(const std::string& cmd) {
  auto r = sh(cmd);
  if (r.status != 0)
    throw std::runtime_error("command failed (" + std::to_string(r.status) + "): " + cmd + "\n" +
                             r.output);
  return r.output;
}

std::string in_ns(const std::string& ns) { return "nsenter --net=/run/netns/" + ns + " "; }

void run_in_netns(const std::string& ns, const std::function<void()>& fn) {
  std::exception_ptr err;
  std::thread t([&] {
    try {
      std::string path = "/run/netns/" + ns;
      int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) throw std::runtime_error("open " + path + ": " + std::strerror(errno));
      // Network namespaces are per thread: only this thread moves.
      int rc = ::setns(fd, CLONE_NEWNET);
      int e = errno;
      ::close(fd);
      if (rc != 0) throw std::runtime_error("setns " + path + ": " + std::strerror(e));
      fn();
    } catch (...) {
      err = std::current_exception();
    }
  });
  t.join();
  if (err) std::rethrow_exception(err);
}

sockaddr_storage sockaddr_of(const IpAddr& a, uint16_t port, socklen_t& len) {
  sockaddr_storage ss{};
  if (a.v6) {
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(port);
    std::memcpy(&s6->sin6_addr, a.bytes.data(), 16);
    len = sizeof(*s6);
  } else {
    auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
    s4->sin_family = AF_INET;
    s4->sin_port = htons(port);
    std::memcpy(&s4->sin_addr, a.bytes.data(), 4);
    len = sizeof(*s4);
  }
  return ss;
}

int bound_socket(const std::string& ns, const IpAddr& addr, uint16_t port, bool udp, int backlog) {
  int fd = -1;
  run_in_netns(ns, [&] {
    fd = ::socket(addr.v6 ? AF_INET6 : AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    socklen_t len;
    auto sa = sockaddr_of(addr, port, len);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), len) != 0 || (!udp && ::listen(fd, backlog) != 0)) {
      int e = errno;
      ::close(fd);
      throw std::runtime_error(std::string("bind/listen: ") + std::strerror(e));
    }
  });
  return fd;
}

SocketServer::SocketServer(int fd, std::function<void(int fd, int stop_fd)> serve)
    : fd_(fd), stop_fd_(::eventfd(0, EFD_CLOEXEC)) {
  if (stop_fd_ < 0) {
    ::close(fd_);
    throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
  }
  thread_ = std::thread([this, serve = std::move(serve)] { serve(fd_, stop_fd_); });
}

SocketServer::~SocketServer() {
  uint64_t one = 1;
  if (::write(stop_fd_, &one, sizeof(one)) < 0) std::perror("eventfd");
  thread_.join();
  ::close(fd_);
  ::close(stop_fd_);
}

}  // namespace cpp::bpftest
