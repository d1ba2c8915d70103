#pragma once
// JSON renderings of map entries for the API (`GET /v1/map/<name>`) and
// cilium-dbg (`bpf endpoint list`, `bpf ipcache list`, `map get`).
#include <ciliumpp/abi.h>

#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "common/ip.h"

namespace cpp::datapath {

// {"address","id","ifindex","flags","host","mac","node_mac","sec_id"}
nlohmann::json endpoint_to_json(const IpAddr& addr, const cpp_endpoint_info& info);
// [ endpoint_to_json(...) ... ] in the given order
nlohmann::json endpoint_map_to_json(const std::vector<std::pair<IpAddr, cpp_endpoint_info>>& entries);

// {"prefix","identity","tunnel_endpoint","flags","skip_tunnel"}
nlohmann::json ipcache_entry_to_json(const IpPrefix& prefix, const cpp_ipcache_value& value);
nlohmann::json ipcache_to_json(const std::vector<std::pair<IpPrefix, cpp_ipcache_value>>& entries);

}  // namespace cpp::datapath
