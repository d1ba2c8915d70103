#include "lab/netns.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <thread>

#include "lab/proc.h"

namespace cpp::lab {

std::string netns_path(const std::string& name) { return "/run/netns/" + name; }

bool netns_exists(const std::string& name) {
  struct stat st {};
  return ::stat(netns_path(name).c_str(), &st) == 0;
}

std::vector<std::string> list_netns() {
  std::vector<std::string> out;
  DIR* d = ::opendir("/run/netns");
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(n);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

void create_netns(const std::string& name) { run_checked({"ip", "netns", "add", name}); }

bool delete_netns(const std::string& name, std::string* error) {
  if (!netns_exists(name)) return true;
  RunResult r = run({"ip", "netns", "del", name});
  if (r.exit_code != 0 && netns_exists(name)) {
    if (error) *error = r.err;
    return false;
  }
  return true;
}

ino_t netns_inode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_ino;
}

std::vector<pid_t> processes_in_netns(const std::vector<ino_t>& inodes) {
  std::vector<pid_t> out;
  if (inodes.empty()) return out;
  pid_t self = ::getpid();
  DIR* d = ::opendir("/proc");
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (!end || *end != '\0' || pid <= 0 || pid == self) continue;
    struct stat st {};
    std::string p = "/proc/" + std::string(e->d_name) + "/ns/net";
    if (::stat(p.c_str(), &st) != 0) continue;
    if (std::find(inodes.begin(), inodes.end(), st.st_ino) != inodes.end()) out.push_back(static_cast<pid_t>(pid));
  }
  ::closedir(d);
  return out;
}

}  // namespace cpp::lab
