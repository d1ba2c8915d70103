#include "agent/map_views.h"

#include <ciliumpp/abi.h>

#include "datapath/conntrack_map.h"
#include "datapath/endpoint_map.h"
#include "datapath/ipcache_map.h"
#include "datapath/map_json.h"
#include "datapath/nat_map.h"
#include "datapath/policy_map.h"

namespace cpp::agent {

nlohmann::json list_maps(const std::string& pin_dir) {
  datapath::EndpointMap endpoints(pin_dir);
  datapath::IpcacheMap ipcache(pin_dir);
  datapath::PolicyMap policy(pin_dir);
  datapath::ConntrackMaps ct(pin_dir);
  auto row = [&](const char* name, size_t entries) {
    return nlohmann::json{{"name", name}, {"path", pin_dir + "/" + name}, {"entries", entries}};
  };
  auto maps = nlohmann::json::array({row(CPP_MAP_ENDPOINTS, endpoints.dump().size()),
                                     row(CPP_MAP_IPCACHE, ipcache.dump().size()),
                                     row(CPP_MAP_POLICY, policy.dump().size()),
                                     {{"name", "cpp_ct"}, {"path", pin_dir + "/cpp_ct{4,6}"}, {"entries", ct.count()}}});
  // The NAT maps exist once masquerading has been enabled on the node.
  if (datapath::nat_maps_exist(pin_dir))
    maps.push_back({{"name", "cpp_snat"},
                    {"path", pin_dir + "/cpp_snat{4,6}"},
                    {"entries", datapath::NatMaps(pin_dir).count()}});
  return maps;
}

std::optional<nlohmann::json> dump_map(const std::string& pin_dir, const std::string& name) {
  if (name == CPP_MAP_ENDPOINTS) return datapath::endpoint_map_to_json(datapath::EndpointMap(pin_dir).dump());
  if (name == CPP_MAP_IPCACHE) return datapath::ipcache_to_json(datapath::IpcacheMap(pin_dir).dump());
  if (name == CPP_MAP_POLICY) return datapath::policy_entries_to_json(datapath::PolicyMap(pin_dir).dump());
  if (name == "cpp_ct")
    return datapath::ct_to_json(datapath::ConntrackMaps(pin_dir).dump(false), datapath::monotonic_now_ns());
  if (name == "cpp_snat" && datapath::nat_maps_exist(pin_dir))
    return datapath::nat_to_json(datapath::NatMaps(pin_dir).dump(false), datapath::monotonic_now_ns());
  return std::nullopt;
}

}  // namespace cpp::agent
