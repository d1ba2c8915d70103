#include "netns_util.h"

#include <fcntl.h>
#include <sched.h>
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

}  // namespace cpp::bpftest
