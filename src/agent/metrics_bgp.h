#pragma once
// The BGP control plane's metrics, upstream's names: per session
//   cilium_bgp_control_plane_session_state{vrouter,neighbor,neighbor_asn}   1 established, 0 not
//   cilium_bgp_control_plane_advertised_routes{...,afi,safi}                 routes sent, per family
//   cilium_bgp_control_plane_received_routes{vrouter,neighbor,neighbor_asn} routes the peer announced
// built at scrape time from the speaker's status.
#include <vector>

#include "bgp/speaker.h"
#include "metrics/registry.h"

namespace cpp::agent {

std::vector<metrics::FamilySnapshot> bgp_families(const std::vector<bgp::PeerStatus>& peers,
                                                  const std::vector<bgp::RouteStatus>& advertised);

}  // namespace cpp::agent
