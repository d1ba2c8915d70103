#pragma once
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cpp::cni {

inline constexpr const char* kDefaultSocket = "/var/run/cilium/cilium.sock";
const std::vector<std::string>& supported_versions();

// The plugin's network configuration from stdin (a conflist entry with
// cniVersion and name injected by the runtime).
struct NetConf {
  std::string cni_version;
  std::string name;
  std::string type;
  std::string socket_path = kDefaultSocket;
  std::string log_file;
  bool debug = false;
  nlohmann::json raw;
};

// Throws CniError: kDecodingFailure for bad JSON, kIncompatibleVersion for an
// unsupported cniVersion, kInvalidNetworkConfig for wrong field types.
NetConf parse_netconf(const std::string& stdin_text);

// The CNI_* environment of one invocation.
struct Invocation {
  std::string command;
  std::string container_id;
  std::string netns;
  std::string ifname;
  std::string path;
  std::map<std::string, std::string> args;  // CNI_ARGS "K=V;K=V"
};

// Reads and validates CNI_* variables for `command` (which ones are
// required depends on it). Throws CniError kInvalidEnv naming the variable.
Invocation parse_invocation(const std::map<std::string, std::string>& env);

// "lxc" + 12 hex digits derived from the container id and interface: stable,
// so DEL and CHECK find the device ADD made, and within IFNAMSIZ.
std::string host_ifname(const std::string& container_id, const std::string& ifname);

}  // namespace cpp::cni
