#pragma once
// What `cilium-dbg bgp peers` and `cilium-dbg bgp routes advertised|available`
// print: upstream's tables (columns aligned as Go's tabwriter with padding 3
// does) and JSON (upstream's kebab-case models, trimmed to what the speaker
// reports). Pure functions over the speaker's status.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bgp/message.h"
#include "bgp/speaker.h"

namespace cpp::bgp {

// "ipv4/unicast", "ipv6/unicast" (upstream's spelling in these tables).
std::string family_str(Family f);
// The CLI's "<afi> <safi>" arguments; nullopt for anything but ipv4/ipv6 unicast.
std::optional<Family> parse_family(const std::string& afi, const std::string& safi);
// Go's time.Duration format at second resolution: "0s", "59s", "1m2s", "1h0m5s".
std::string uptime_str(std::chrono::seconds s);

// Columns: Local AS, Peer AS, Peer Address, Session, Uptime, Family,
// Received, Advertised. One row per negotiated family (a peer without any
// gets one row with an empty family); the speaker counts routes over all
// families, so the counts are on the peer's first row only. Sorted by
// (local AS, peer address).
std::string format_peers(const std::vector<PeerStatus>& peers);
// The inverse of peers_json/routes_json, for clients of the agent API
// (cilium-dbg). Throws std::invalid_argument naming the bad field.
std::vector<PeerStatus> peers_from_json(const nlohmann::json& j);
std::vector<RouteStatus> routes_from_json(const nlohmann::json& j);
nlohmann::json peers_json(const std::vector<PeerStatus>& peers);

struct RouteFilter {
  std::optional<Family> family;        // the CLI's "ipv4 unicast"
  std::optional<uint32_t> router_asn;  // "vrouter <asn>"
  std::optional<IpAddr> peer;          // "peer <address>" (advertised routes)
};
std::vector<RouteStatus> filter_routes(const std::vector<RouteStatus>& routes, const RouteFilter& f);

// Columns: VRouter, Peer (advertised only), Prefix, NextHop, Attrs. A route
// without a next hop is sent with the session's own address; it shows as
// 0.0.0.0 or ::, as GoBGP shows locally originated paths. Attrs are those
// the speaker originates: ORIGIN IGP and the next hop (IPv6 in MP_REACH).
// Sorted by (VRouter, Peer, Prefix). Age is not tracked by the speaker and
// has no column.
std::string format_routes(const std::vector<RouteStatus>& routes, bool advertised);
nlohmann::json routes_json(const std::vector<RouteStatus>& routes);

}  // namespace cpp::bgp
