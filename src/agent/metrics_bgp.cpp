#include "agent/metrics_bgp.h"

#include <map>
#include <string>
#include <tuple>

namespace cpp::agent {
namespace {

// Upstream labels a neighbor "address:port".
std::string neighbor_label(const IpAddr& a) { return (a.v6 ? "[" + a.str() + "]" : a.str()) + ":179"; }

}  // namespace

std::vector<metrics::FamilySnapshot> bgp_families(const std::vector<bgp::PeerStatus>& peers,
                                                  const std::vector<bgp::RouteStatus>& advertised) {
  using metrics::Type;
  metrics::FamilySnapshot state{"cilium_bgp_control_plane_session_state",
                                "Current state of the BGP session with the peer, Up = 1 or Down = 0", Type::Gauge, {}};
  metrics::FamilySnapshot adv{"cilium_bgp_control_plane_advertised_routes",
                              "Number of routes advertised to the peer", Type::Gauge, {}};
  metrics::FamilySnapshot rcv{"cilium_bgp_control_plane_received_routes",
                              "Number of routes received from the peer", Type::Gauge, {}};
  // (vrouter, neighbor, afi) -> routes sent
  std::map<std::tuple<uint32_t, IpAddr, std::string>, size_t> sent;
  for (const auto& r : advertised) ++sent[{r.local_asn, r.peer_address, r.route.prefix.addr.v6 ? "ipv6" : "ipv4"}];
  for (const auto& p : peers) {
    std::vector<std::pair<std::string, std::string>> labels{{"vrouter", std::to_string(p.local_asn)},
                                                            {"neighbor", neighbor_label(p.peer_address)},
                                                            {"neighbor_asn", std::to_string(p.peer_asn)}};
    state.samples.push_back({labels, p.state == bgp::SessionState::Established ? 1.0 : 0.0, ""});
    for (const char* afi : {"ipv4", "ipv6"}) {
      auto l = labels;
      l.push_back({"afi", afi});
      l.push_back({"safi", "unicast"});
      auto it = sent.find({p.local_asn, p.peer_address, afi});
      adv.samples.push_back({l, static_cast<double>(it == sent.end() ? 0 : it->second), ""});
      bgp::Family f{std::string(afi) == "ipv4" ? bgp::Afi::IPv4 : bgp::Afi::IPv6, bgp::Safi::Unicast};
      auto got = p.received_by_family.find(f);
      rcv.samples.push_back({l, static_cast<double>(got == p.received_by_family.end() ? 0 : got->second), ""});
    }
  }
  return {std::move(state), std::move(adv), std::move(rcv)};
}

}  // namespace cpp::agent
