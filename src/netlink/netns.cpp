#include "netlink/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace cpp {

NetnsHandle::~NetnsHandle() {
  if (fd_ >= 0) ::close(fd_);
}

NetnsHandle& NetnsHandle::operator=(NetnsHandle&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(o.fd_, -1);
  }
  return *this;
}

NetnsHandle NetnsHandle::open_path(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw std::runtime_error("netns: open " + path + ": " + std::strerror(errno));
  // Make sure it really is a namespace file, so a typo fails here and not at setns time.
  // (A leftover /run/netns/<name> that is no longer a mount is a plain file.)
  struct statfs sfs {};
  if (::fstatfs(fd, &sfs) != 0 || sfs.f_type != NSFS_MAGIC) {
    ::close(fd);
    throw std::runtime_error("netns: " + path + " is not a network namespace file");
  }
  return NetnsHandle(fd);
}

NetnsHandle NetnsHandle::open_name(const std::string& name) {
  return open_path(netns_path_for_name(name));
}

NetnsHandle NetnsHandle::current() { return open_path("/proc/thread-self/ns/net"); }

uint64_t NetnsHandle::id() const {
  struct stat st {};
  if (fd_ < 0 || ::fstat(fd_, &st) != 0)
    throw std::runtime_error("netns: fstat of namespace handle failed");
  return static_cast<uint64_t>(st.st_ino);
}

std::string netns_path_for_name(const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
    throw std::runtime_error("netns: invalid namespace name '" + name + "'");
  return "/run/netns/" + name;
}

namespace detail {
void enter_netns(int fd) {
  if (fd < 0) throw std::runtime_error("netns: setns: invalid namespace handle");
  if (::setns(fd, CLONE_NEWNET) != 0)
    throw std::runtime_error(std::string("netns: setns(CLONE_NEWNET): ") + std::strerror(errno));
}
}  // namespace detail

}  // namespace cpp
