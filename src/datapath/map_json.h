#pragma once
// JSON renderings of map entries for the API (`GET /v1/map/<name>`) and
// cilium-dbg (`bpf endpoint list`, `bpf ipcache list`, `map get`).
#include <ciliumpp/abi.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "common/ip.h"
#include "datapath/conntrack_map.h"
#include "datapath/policy_map.h"

namespace cpp::datapath {

// {"address","id","ifindex","flags","host","mac","node_mac","sec_id"}
nlohmann::json endpoint_to_json(const IpAddr& addr, const cpp_endpoint_info& info);
// [ endpoint_to_json(...) ... ] in the given order
nlohmann::json endpoint_map_to_json(const std::vector<std::pair<IpAddr, cpp_endpoint_info>>& entries);

// {"prefix","identity","tunnel_endpoint","flags","skip_tunnel"}
nlohmann::json ipcache_entry_to_json(const IpPrefix& prefix, const cpp_ipcache_value& value);
nlohmann::json ipcache_to_json(const std::vector<std::pair<IpPrefix, cpp_ipcache_value>>& entries);

// Upstream's protocol names: "ANY" (0), "ICMP", "TCP", "UDP", "ICMPv6",
// "SCTP", else the number.
std::string proto_name(uint8_t proto);
// "reserved:host" ... for reserved identities (0, "any", is upstream's
// "reserved:unknown"); empty for others.
std::string reserved_identity_label(uint32_t identity);

// Labels of an identity, for the LABELS column; the datapath knows only
// reserved ones, the caller (agent, cilium-dbg) can resolve the rest.
using IdentityLabels = std::function<std::vector<std::string>(uint32_t identity)>;

// `cilium-dbg bpf policy get EP`, one object per entry with upstream's
// columns: {"policy": "Allow"|"Deny", "deny": bool, "direction": "Ingress"|"Egress",
// "labels": [...], "identity", "port_proto": "80/TCP"|"TCP"|"ANY",
// "proxy_port": "NONE"|N, "bytes", "packets", "prefix" (port prefix
// length: 16 for one port, 0 for any), "cookie", "ep_id"}.
nlohmann::json policy_entry_to_json(const PolicyMapEntry& e, const IdentityLabels& labels = {});
nlohmann::json policy_entries_to_json(const std::vector<PolicyMapEntry>& entries,
                                      const IdentityLabels& labels = {});

// `cilium-dbg bpf ct list`: {"proto", "direction": "OUT"|"IN", "source":
// "addr:port", "destination", "expires_in_s" (negative once expired),
// "flags": ["SynSeen", "Established", "FinTx", "FinRx", "Rst"], "packets",
// "bytes", "source_security_id", "ep_id", "cookie"}. now_ns: the clock of
// expires_ns (monotonic_now_ns()).
nlohmann::json ct_entry_to_json(const CtEntry& e, uint64_t now_ns);
nlohmann::json ct_to_json(const std::vector<CtEntry>& entries, uint64_t now_ns);
// Upstream's one-line text form:
//   TCP OUT 10.0.0.1:41234 -> 10.0.0.2:80 expires=17664 Packets=3 Bytes=180
//   Flags=[ SynSeen Established ] SourceSecurityID=2 EndpointID=12
// (one line; expires in seconds from now).
std::string ct_entry_to_text(const CtEntry& e, uint64_t now_ns);


}  // namespace cpp::datapath
