#include "datapath/endpoint_map.h"

#include <algorithm>

#include "datapath/map_keys.h"

namespace cpp::datapath {

EndpointMap::EndpointMap(const std::string& pin_dir)
    : map_(pin_dir + "/" CPP_MAP_ENDPOINTS, sizeof(cpp_endpoint_key), sizeof(cpp_endpoint_info)) {}

void EndpointMap::upsert(const IpAddr& addr, const cpp_endpoint_info& info) const {
  auto key = endpoint_key(addr);
  map_.update(&key, &info);
}

bool EndpointMap::remove(const IpAddr& addr) const {
  auto key = endpoint_key(addr);
  return map_.remove(&key);
}

std::optional<cpp_endpoint_info> EndpointMap::lookup(const IpAddr& addr) const {
  auto key = endpoint_key(addr);
  cpp_endpoint_info info{};
  if (!map_.lookup(&key, &info)) return std::nullopt;
  return info;
}

std::vector<std::pair<IpAddr, cpp_endpoint_info>> EndpointMap::dump() const {
  std::vector<std::pair<IpAddr, cpp_endpoint_info>> out;
  map_.for_each([&](const void* k, const void* v) {
    out.emplace_back(endpoint_key_addr(*static_cast<const cpp_endpoint_key*>(k)),
                     *static_cast<const cpp_endpoint_info*>(v));
  });
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.first < b.first; });
  return out;
}

}  // namespace cpp::datapath
