#pragma once
#include <ciliumpp/abi.h>

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/ip.h"
#include "datapath/pinned_map.h"

namespace cpp::datapath {

// One entry of cpp_snat4/cpp_snat6, decoded (bpf/lib/nat.h). An EGRESS
// entry maps a pod's tuple to the node address/port it leaves with; an
// INGRESS entry maps the world's answer tuple back to the pod.
struct NatEntry {
  IpAddr saddr, daddr;
  uint16_t sport = 0, dport = 0;  // host order; ICMP echo: the identifier
  uint8_t nexthdr = 0;
  uint8_t dir = CPP_NAT_EGRESS;   // CPP_NAT_*
  IpAddr to_addr;                 // EGRESS: new source; INGRESS: new destination
  uint16_t to_port = 0;           // host order
  uint16_t flags = 0;             // CPP_NAT_F_*
  uint64_t expires_ns = 0;        // CLOCK_MONOTONIC (coarse) deadline
  uint64_t created_ns = 0;
};

// Both pinned NAT maps of a node. They exist once bpf_netdev was loaded
// (masquerading enabled); the constructor throws std::runtime_error naming
// the pin otherwise.
class NatMaps {
 public:
  explicit NatMaps(const std::string& pin_dir);

  // All entries, IPv4 first, sorted by direction and tuple; expired ones
  // the LRU still holds unless include_expired is false.
  std::vector<NatEntry> dump(bool include_expired = true) const;
  size_t count() const;

 private:
  PinnedMap nat4_;
  PinnedMap nat6_;
};

// True if pin_dir holds the NAT maps.
bool nat_maps_exist(const std::string& pin_dir);

// `cilium-dbg bpf nat list`: one object per entry, upstream's columns:
// {"proto", "direction": "OUT"|"IN", "source", "destination" ("addr:port",
//  IPv6 in brackets), "xlate" (new source for OUT, new destination for IN),
//  "flags", "expires_in_s"}.
nlohmann::json nat_entry_to_json(const NatEntry& e, uint64_t now_ns);
nlohmann::json nat_to_json(const std::vector<NatEntry>& entries, uint64_t now_ns);
// One line, upstream's shape: "TCP OUT 10.0.1.5:40000 -> 203.0.113.7:80
// XLATE_SRC 192.0.2.1:40000 expires 59s" (XLATE_DST for IN entries).
std::string nat_entry_to_text(const NatEntry& e, uint64_t now_ns);

}  // namespace cpp::datapath
