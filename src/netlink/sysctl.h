#pragma once
// Per-network-namespace sysctls (net.*) under /proc/sys.
//
// /proc/sys/net resolves against the network namespace of the *thread* that
// opens the file (verified by tests/integration/netlink), so the plain
// functions act on the calling thread's namespace and the NetnsHandle
// overloads open the file from a run_in_netns() thread. (Unlike /proc/net,
// which is /proc/self/net and follows the thread-group leader: code reading
// /proc/net files from a run_in_netns() thread must use /proc/thread-self/net.)
//
// Keys: "net.ipv4.ip_forward" (dots) or "net/ipv4/conf/eth0.100/rp_filter"
// (slashes; needed when a device name contains a dot). Only keys under "net"
// are accepted: everything else is global to the machine, and the agent must
// not change it.
#include <string>

#include "netlink/netns.h"

namespace cpp {

// "/proc/sys/net/ipv4/ip_forward"; throws std::runtime_error for a key outside net.
std::string sysctl_path(const std::string& key);

void write_sysctl(const std::string& key, const std::string& value);
// Value without the trailing newline.
std::string read_sysctl(const std::string& key);

void write_sysctl(const NetnsHandle& ns, const std::string& key, const std::string& value);
std::string read_sysctl(const NetnsHandle& ns, const std::string& key);

}  // namespace cpp
