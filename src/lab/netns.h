#pragma once
// Named network namespaces (/run/netns/<name>, as iproute2 makes them) and
// running code inside one.
#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

namespace cpp::lab {

std::string netns_path(const std::string& name);
bool netns_exists(const std::string& name);
std::vector<std::string> list_netns();
// `ip netns add`; throws on failure.
void create_netns(const std::string& name);
// `ip netns del`; a missing namespace is not an error. Returns false on failure.
bool delete_netns(const std::string& name, std::string* error = nullptr);
// Inode of a namespace file (0 when missing); equal to /proc/PID/ns/net's of its members.
ino_t netns_inode(const std::string& path);
// PIDs of all processes whose network namespace is one of `inodes`.
std::vector<pid_t> processes_in_netns(const std::vector<ino_t>& inodes);

}  // namespace cpp::lab
