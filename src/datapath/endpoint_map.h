#pragma once
#include <ciliumpp/abi.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/ip.h"
#include "datapath/pinned_map.h"

namespace cpp::datapath {

// The pinned cpp_lxc map: local address -> endpoint (pods, and the node's
// own addresses with CPP_EP_F_HOST). The pin must exist (Loader::ensure_maps).
class EndpointMap {
 public:
  explicit EndpointMap(const std::string& pin_dir);

  void upsert(const IpAddr& addr, const cpp_endpoint_info& info) const;
  bool remove(const IpAddr& addr) const;  // false if absent
  std::optional<cpp_endpoint_info> lookup(const IpAddr& addr) const;
  std::vector<std::pair<IpAddr, cpp_endpoint_info>> dump() const;  // sorted by address

  const std::string& path() const { return map_.path(); }

 private:
  PinnedMap map_;
};

}  // namespace cpp::datapath
