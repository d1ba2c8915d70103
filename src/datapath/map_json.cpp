#include "datapath/map_json.h"

#include <cstring>

#include "common/mac.h"

namespace cpp::datapath {

nlohmann::json endpoint_to_json(const IpAddr& addr, const cpp_endpoint_info& info) {
  return {
      {"address", addr.str()},
      {"id", info.lxc_id},
      {"ifindex", info.ifindex},
      {"flags", info.flags},
      {"host", (info.flags & CPP_EP_F_HOST) != 0},
      {"mac", mac_str(info.mac)},
      {"node_mac", mac_str(info.node_mac)},
      {"sec_id", info.sec_id},
  };
}

nlohmann::json endpoint_map_to_json(
    const std::vector<std::pair<IpAddr, cpp_endpoint_info>>& entries) {
  auto out = nlohmann::json::array();
  for (const auto& [addr, info] : entries) out.push_back(endpoint_to_json(addr, info));
  return out;
}

nlohmann::json ipcache_entry_to_json(const IpPrefix& prefix, const cpp_ipcache_value& value) {
  IpAddr tunnel;  // IPv4, network order in the map
  std::memcpy(tunnel.bytes.data(), &value.tunnel_endpoint, 4);
  return {
      {"prefix", prefix.str()},
      {"identity", value.sec_identity},
      {"tunnel_endpoint", tunnel.str()},
      {"flags", value.flags},
      {"skip_tunnel", (value.flags & CPP_IPCACHE_F_SKIP_TUNNEL) != 0},
  };
}

nlohmann::json ipcache_to_json(const std::vector<std::pair<IpPrefix, cpp_ipcache_value>>& entries) {
  auto out = nlohmann::json::array();
  for (const auto& [prefix, value] : entries) out.push_back(ipcache_entry_to_json(prefix, value));
  return out;
}

}  // namespace cpp::datapath
