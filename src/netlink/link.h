#pragma once
// Plain data describing a network device, as seen from one namespace.
#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "common/mac.h"

namespace cpp {

struct LinkInfo {
  int ifindex = 0;
  std::string name;
  std::string kind;  // rtnl link kind: "veth", "vxlan", ... ("" for lo / physical)
  MacAddr mac{};
  int mtu = 0;
  bool up = false;     // IFF_UP (administrative state)
  bool noarp = false;  // IFF_NOARP
  // veth only: ifindex of the peer, in the peer's namespace (IFLA_LINK); 0 otherwise.
  int peer_ifindex = 0;
};

// The attributes of a VXLAN device the datapath depends on.
struct VxlanSettings {
  bool external = false;  // collect_md: remote and VNI per packet
  bool learning = false;
  uint16_t dst_port = 0;
};

}  // namespace cpp
