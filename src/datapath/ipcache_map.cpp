#include "datapath/ipcache_map.h"

#include <algorithm>

#include "datapath/map_keys.h"

namespace cpp::datapath {

IpcacheMap::IpcacheMap(const std::string& pin_dir)
    : map_(pin_dir + "/" CPP_MAP_IPCACHE, sizeof(cpp_ipcache_key), sizeof(cpp_ipcache_value)) {}

void IpcacheMap::upsert(const IpPrefix& prefix, const cpp_ipcache_value& value) const {
  auto key = ipcache_key(prefix);
  map_.update(&key, &value);
}

bool IpcacheMap::remove(const IpPrefix& prefix) const {
  auto key = ipcache_key(prefix);
  return map_.remove(&key);
}

std::optional<cpp_ipcache_value> IpcacheMap::lookup(const IpAddr& addr) const {
  auto key = ipcache_key(addr);
  cpp_ipcache_value v{};
  if (!map_.lookup(&key, &v)) return std::nullopt;
  return v;
}

std::vector<std::pair<IpPrefix, cpp_ipcache_value>> IpcacheMap::dump() const {
  std::vector<std::pair<IpPrefix, cpp_ipcache_value>> out;
  map_.for_each([&](const void* k, const void* v) {
    out.emplace_back(ipcache_key_prefix(*static_cast<const cpp_ipcache_key*>(k)),
                     *static_cast<const cpp_ipcache_value*>(v));
  });
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) {
    return a.first.addr != b.first.addr ? a.first.addr < b.first.addr : a.first.len < b.first.len;
  });
  return out;
}

}  // namespace cpp::datapath
