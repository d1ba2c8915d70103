#include "netlink/sysctl.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace cpp {

std::string sysctl_path(const std::string& key) {
  std::string rel = key;
  if (rel.find('/') == std::string::npos) std::replace(rel.begin(), rel.end(), '.', '/');
  bool bad = rel.rfind("net/", 0) != 0 || rel.size() <= 4 || rel.find("..") != std::string::npos ||
             rel.find("//") != std::string::npos || rel.back() == '/';
  if (bad)
    throw std::runtime_error("sysctl: '" + key +
                             "' is not a per-namespace net.* key (only net.* may be changed)");
  return "/proc/sys/" + rel;
}

void write_sysctl(const std::string& key, const std::string& value) {
  const std::string path = sysctl_path(key);
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    throw std::runtime_error("sysctl: open " + path + " for writing: " + std::strerror(errno));
  ssize_t n = ::write(fd, value.data(), value.size());
  int err = errno;
  ::close(fd);
  if (n < 0)
    throw std::runtime_error("sysctl: write '" + value + "' to " + path + ": " + std::strerror(err));
  if (static_cast<size_t>(n) != value.size())
    throw std::runtime_error("sysctl: short write of '" + value + "' to " + path);
}

std::string read_sysctl(const std::string& key) {
  const std::string path = sysctl_path(key);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("sysctl: open " + path + ": " + std::strerror(errno));
  std::string out;
  char buf[512];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      int err = errno;
      if (err == EINTR) continue;
      ::close(fd);
      throw std::runtime_error("sysctl: read " + path + ": " + std::strerror(err));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

void write_sysctl(const NetnsHandle& ns, const std::string& key, const std::string& value) {
  run_in_netns(ns, [&] { write_sysctl(key, value); });
}

std::string read_sysctl(const NetnsHandle& ns, const std::string& key) {
  return run_in_netns(ns, [&] { return read_sysctl(key); });
}

}  // namespace cpp
