#include "cni/netconf.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "cni/cni_error.h"

namespace cpp::cni {

const std::vector<std::string>& supported_versions() {
  static const std::vector<std::string> v{"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"};
  return v;
}

NetConf parse_netconf(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) throw CniError(kDecodingFailure, "network configuration on stdin is not valid JSON");
  if (!j.is_object()) throw CniError(kDecodingFailure, "network configuration must be a JSON object");
  NetConf c;
  c.raw = j;
  auto str = [&](const char* key, std::string& out, bool required) {
    if (!j.contains(key)) {
      if (required) throw CniError(kInvalidNetworkConfig, std::string("network configuration: '") + key + "' is required");
      return;
    }
    if (!j[key].is_string())
      throw CniError(kInvalidNetworkConfig, std::string("network configuration: '") + key + "' must be a string");
    out = j[key].get<std::string>();
  };
  str("cniVersion", c.cni_version, true);
  str("name", c.name, true);
  str("type", c.type, false);
  str("socket-path", c.socket_path, false);
  str("log-file", c.log_file, false);
  if (j.contains("enable-debug")) {
    if (!j["enable-debug"].is_boolean())
      throw CniError(kInvalidNetworkConfig, "network configuration: 'enable-debug' must be a boolean");
    c.debug = j["enable-debug"].get<bool>();
  }
  const auto& v = supported_versions();
  if (std::find(v.begin(), v.end(), c.cni_version) == v.end())
    throw CniError(kIncompatibleVersion, "unsupported cniVersion " + c.cni_version,
                   "supported: 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0");
  if (c.socket_path.empty()) throw CniError(kInvalidNetworkConfig, "network configuration: 'socket-path' is empty");
  return c;
}

namespace {
bool valid_container_id(const std::string& id) {
  auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  if (id.empty() || !alnum(id[0])) return false;
  return std::all_of(id.begin(), id.end(), [&](char c) { return alnum(c) || c == '_' || c == '.' || c == '-'; });
}
}  // namespace

Invocation parse_invocation(const std::map<std::string, std::string>& env) {
  auto get = [&](const char* k) {
    auto it = env.find(k);
    return it == env.end() ? std::string() : it->second;
  };
  Invocation inv;
  inv.command = get("CNI_COMMAND");
  if (inv.command.empty()) throw CniError(kInvalidEnv, "CNI_COMMAND is not set");
  inv.container_id = get("CNI_CONTAINERID");
  inv.netns = get("CNI_NETNS");
  inv.ifname = get("CNI_IFNAME");
  inv.path = get("CNI_PATH");
  bool attachment = inv.command == "ADD" || inv.command == "DEL" || inv.command == "CHECK";
  if (attachment) {
    if (inv.container_id.empty()) throw CniError(kInvalidEnv, "CNI_CONTAINERID is not set");
    if (!valid_container_id(inv.container_id))
      throw CniError(kInvalidEnv, "CNI_CONTAINERID '" + inv.container_id +
                                      "' must be alphanumeric, optionally followed by alphanumerics, '_', '.' or '-'");
    if (inv.ifname.empty()) throw CniError(kInvalidEnv, "CNI_IFNAME is not set");
    if (inv.ifname.size() > 15 || inv.ifname.find('/') != std::string::npos)
      throw CniError(kInvalidEnv, "CNI_IFNAME '" + inv.ifname + "' is not a valid interface name");
    if (inv.command != "DEL" && inv.netns.empty()) throw CniError(kInvalidEnv, "CNI_NETNS is not set");
  }
  std::string args = get("CNI_ARGS");
  size_t start = 0;
  while (start < args.size()) {
    size_t end = args.find(';', start);
    if (end == std::string::npos) end = args.size();
    std::string kv = args.substr(start, end - start);
    auto eq = kv.find('=');
    if (eq == std::string::npos) {
      if (!kv.empty()) throw CniError(kInvalidEnv, "CNI_ARGS entry '" + kv + "' is not KEY=VALUE");
    } else {
      inv.args[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    start = end + 1;
  }
  return inv;
}

std::string host_ifname(const std::string& container_id, const std::string& ifname) {
  // FNV-1a 64: stable across builds and platforms, unlike std::hash.
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : container_id + ":" + ifname) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[16];
  std::snprintf(buf, sizeof(buf), "lxc%012llx", static_cast<unsigned long long>(h & 0xffffffffffffull));
  return buf;
}

}  // namespace cpp::cni
