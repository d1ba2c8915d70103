#pragma once
#include <ciliumpp/abi.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/ip.h"
#include "datapath/pinned_map.h"

namespace cpp::datapath {

// One connection-tracking entry of cpp_ct4/cpp_ct6, decoded. The tuple is
// the one of the packet that opened the connection, seen from the endpoint
// that checked it in `dir` (bpf/lib/conntrack.h explains the orientation).
struct CtEntry {
  IpAddr saddr, daddr;
  uint16_t sport = 0, dport = 0;  // host order; ICMP echo: the identifier
  uint8_t nexthdr = 0;
  uint8_t dir = CPP_CT_EGRESS;  // CPP_CT_*
  uint64_t expires_ns = 0;  // CLOCK_MONOTONIC deadline (tick resolution: bpf_ktime_get_coarse_ns)
  uint32_t flags = 0;       // CPP_CT_F_*
  uint32_t src_identity = 0;
  uint16_t ep_id = 0;
  uint16_t proxy_port = 0;  // host order
  uint32_t cookie = 0;
  uint64_t packets = 0, bytes = 0;
};

// CLOCK_MONOTONIC now, the clock of CtEntry::expires_ns.
uint64_t monotonic_now_ns();

// Both pinned conntrack maps of the node. The pins must exist
// (Loader::ensure_maps).
class ConntrackMaps {
 public:
  explicit ConntrackMaps(const std::string& pin_dir);

  // All entries, IPv4 first, sorted by tuple. Expired entries the LRU has
  // not evicted yet are included unless include_expired is false.
  std::vector<CtEntry> dump(bool include_expired = true) const;
  size_t count() const;  // entries in both maps, expired ones included
  // Removes every entry owned by the endpoint (an endpoint that goes away,
  // or whose policy must be re-evaluated for open connections); returns
  // how many.
  size_t flush_endpoint(uint16_t ep_id) const;
  // Removes every entry (`cilium-dbg bpf ct flush global`); returns how many.
  size_t flush_all() const;

  const std::string& path4() const { return ct4_.path(); }
  const std::string& path6() const { return ct6_.path(); }

 private:
  size_t flush_if(const std::function<bool(const cpp_ct_value&)>& match) const;

  PinnedMap ct4_;
  PinnedMap ct6_;
};

}  // namespace cpp::datapath
