#pragma once
// cpp_lb_ct4 / cpp_lb_ct6 (per-packet service translations, written by the
// datapath), decoded for `cilium-dbg bpf lb ct list`.
#include <ciliumpp/abi.h>

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/ip.h"

namespace cpp::datapath {

struct LbCtEntry {
  IpAddr saddr, daddr;            // the key's tuple (SVC: client -> frontend; REV: backend -> client)
  uint16_t sport = 0, dport = 0;  // host order
  uint8_t proto = 0;
  uint8_t dir = CPP_LB_CT_SVC;
  IpAddr addr;                    // SVC: the backend; REV: the frontend
  uint16_t port = 0;              // host order
  uint16_t svc_id = 0;
  uint32_t backend_id = 0, flags = 0, ifindex = 0;
  uint64_t expires_ns = 0;
};

// Both maps of pin_dir, IPv4 first. Throws std::runtime_error naming a
// missing pin.
std::vector<LbCtEntry> dump_lb_ct(const std::string& pin_dir);

// {"proto", "direction": "SVC"|"REV", "source", "destination", "xlate"
//  ("addr:port"), "svc_id", "backend_id", "flags": ["external", "snat",
//  "closing"], "ifindex", "expires_in_s"}
nlohmann::json lb_ct_to_json(const std::vector<LbCtEntry>& entries, uint64_t now_ns);
// "TCP SVC 10.0.0.5:40000 -> 10.96.0.10:80 XLATE 10.0.1.7:8080 svc=3 backend=7 expires=12s"
std::string lb_ct_entry_to_text(const LbCtEntry& e, uint64_t now_ns);

}  // namespace cpp::datapath
