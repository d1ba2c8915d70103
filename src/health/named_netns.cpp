#include "health/named_netns.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <thread>

#include "netlink/netns.h"

namespace cpp::health {
namespace {

constexpr const char* kRunDir = "/run/netns";

[[noreturn]] void fail(const std::string& step) {
  throw std::runtime_error("netns: " + step + ": " + std::strerror(errno));
}

// As iproute2: /run/netns is a shared mount, so a namespace mounted there is
// visible in mount namespaces created later.
void make_run_dir_shared() {
  if (::mkdir(kRunDir, 0755) != 0 && errno != EEXIST) fail(std::string("mkdir ") + kRunDir);
  if (::mount("", kRunDir, "none", MS_SHARED | MS_REC, nullptr) == 0) return;
  if (errno != EINVAL) fail(std::string("make ") + kRunDir + " shared");
  if (::mount(kRunDir, kRunDir, "none", MS_BIND | MS_REC, nullptr) != 0) fail(std::string("bind-mount ") + kRunDir);
  if (::mount("", kRunDir, "none", MS_SHARED | MS_REC, nullptr) != 0) fail(std::string("make ") + kRunDir + " shared");
}

bool is_netns(const std::string& path) {
  try {
    NetnsHandle::open_path(path);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

bool ensure_named_netns(const std::string& name) {
  std::string path = netns_path_for_name(name);
  if (is_netns(path)) return false;
  make_run_dir_shared();
  int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0);
  if (fd < 0) fail("create " + path);
  ::close(fd);
  // unshare(2) on a thread of its own: the new namespace is that thread's
  // alone, and the bind mount keeps it after the thread exits.
  std::string error;
  std::thread t([&] {
    if (::unshare(CLONE_NEWNET) != 0)
      error = std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
    else if (::mount("/proc/thread-self/ns/net", path.c_str(), "none", MS_BIND, nullptr) != 0)
      error = "bind-mount the new namespace on " + path + ": " + std::strerror(errno);
  });
  t.join();
  if (!error.empty()) {
    ::unlink(path.c_str());
    throw std::runtime_error("netns: " + error);
  }
  return true;
}

bool remove_named_netns(const std::string& name) {
  std::string path = netns_path_for_name(name);
  if (!is_netns(path)) return false;
  // MNT_DETACH as iproute2: a process still inside keeps the namespace alive.
  if (::umount2(path.c_str(), MNT_DETACH) != 0) fail("unmount " + path);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) fail("remove " + path);
  return true;
}

bool in_initial_netns() {
  try {
    return NetnsHandle::current().id() == NetnsHandle::open_path("/proc/1/ns/net").id();
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace cpp::health
