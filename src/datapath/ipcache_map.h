#pragma once
#include <ciliumpp/abi.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/ip.h"
#include "datapath/pinned_map.h"

namespace cpp::datapath {

// The pinned cpp_ipcache LPM map: prefix -> identity / tunnel endpoint.
class IpcacheMap {
 public:
  explicit IpcacheMap(const std::string& pin_dir);

  void upsert(const IpPrefix& prefix, const cpp_ipcache_value& value) const;
  bool remove(const IpPrefix& prefix) const;  // false if absent
  // Longest-prefix match, as the datapath sees it.
  std::optional<cpp_ipcache_value> lookup(const IpAddr& addr) const;
  std::vector<std::pair<IpPrefix, cpp_ipcache_value>> dump() const;  // sorted

  const std::string& path() const { return map_.path(); }

 private:
  PinnedMap map_;
};

}  // namespace cpp::datapath
