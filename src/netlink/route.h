#pragma once
// Plain data describing one route.
#include <linux/rtnetlink.h>

#include <cstdint>
#include <optional>
#include <string>

#include "common/ip.h"

namespace cpp {

struct Route {
  IpPrefix dst;                 // 0.0.0.0/0 or ::/0 for a default route
  std::optional<IpAddr> via;    // gateway
  std::string dev;              // output device (required for replace_route)
  std::optional<IpAddr> src;    // preferred source address (RTA_PREFSRC)
  int scope = RT_SCOPE_UNIVERSE;  // RT_SCOPE_LINK for "X dev D scope link"; IPv6 ignores it
  int mtu = 0;                  // RTAX_MTU metric, 0 = none
  int table = RT_TABLE_MAIN;
  // "proto kernel" by default: what upstream Cilium's cilium_host routes show.
  int protocol = RTPROT_KERNEL;
  uint32_t priority = 0;        // metric; 0 = kernel default (0 for IPv4, 1024 for IPv6)
  bool onlink = false;          // RTNH_F_ONLINK: gateway is on-link even without a covering route
  int type = RTN_UNICAST;

  // "10.0.0.0/24 via 10.0.0.1 dev cilium_host src 10.0.0.1 mtu 1450 table 254"
  std::string str() const;
};

}  // namespace cpp
