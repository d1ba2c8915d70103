#pragma once
#include <cstdint>

#include "netlink/link.h"
#include "netlink/rtnl.h"

namespace cpp::agent {

inline constexpr const char* kVxlanDevice = "cilium_vxlan";
inline constexpr uint16_t kVxlanPort = 8472;  // upstream's tunnel-port default (Linux's VXLAN port)

// Makes cilium_vxlan exist as upstream has it: external (collect_md), UDP
// destination port 8472, learning off, up. An existing device with other
// settings is replaced (the kernel cannot change them in place); one that is
// not VXLAN at all is an error. Idempotent. Returns the device.
LinkInfo ensure_vxlan_device(Netlink& nl);

}  // namespace cpp::agent
