#include <gtest/gtest.h>

#include "agent/metrics_bgp.h"

using namespace cpp;
using namespace cpp::agent;

namespace {

IpAddr ip(const char* s) { return *IpAddr::parse(s); }

const metrics::Sample* sample(const metrics::FamilySnapshot& f, const std::string& neighbor, const char* afi = nullptr) {
  for (const auto& s : f.samples) {
    bool n = false, a = afi == nullptr;
    for (const auto& [k, v] : s.labels) {
      if (k == "neighbor" && v == neighbor) n = true;
      if (afi && k == "afi" && v == afi) a = true;
    }
    if (n && a) return &s;
  }
  return nullptr;
}

}  // namespace

TEST(BgpMetrics, SessionStateAndRouteCountsPerNeighborAndFamily) {
  bgp::PeerStatus up;
  up.local_asn = 65001;
  up.peer_address = ip("192.0.2.250");
  up.peer_asn = 64512;
  up.state = bgp::SessionState::Established;
  up.received = 3;
  up.received_by_family = {{{bgp::Afi::IPv4, bgp::Safi::Unicast}, 2}, {{bgp::Afi::IPv6, bgp::Safi::Unicast}, 1}};
  bgp::PeerStatus down = up;
  down.peer_address = ip("2001:db8::fa");
  down.state = bgp::SessionState::Active;
  down.received = 0;
  down.received_by_family.clear();
  std::vector<bgp::RouteStatus> adv{
      {65001, up.peer_address, {*IpPrefix::parse("10.233.64.0/24"), std::nullopt}},
      {65001, up.peer_address, {*IpPrefix::parse("203.0.113.1/32"), std::nullopt}},
      {65001, up.peer_address, {*IpPrefix::parse("fd00:10:233::/64"), std::nullopt}},
  };
  auto fams = bgp_families({up, down}, adv);
  ASSERT_EQ(fams.size(), 3u);
  EXPECT_EQ(fams[0].name, "cilium_bgp_control_plane_session_state");
  ASSERT_NE(sample(fams[0], "192.0.2.250:179"), nullptr);
  EXPECT_EQ(sample(fams[0], "192.0.2.250:179")->value, 1);
  ASSERT_NE(sample(fams[0], "[2001:db8::fa]:179"), nullptr);
  EXPECT_EQ(sample(fams[0], "[2001:db8::fa]:179")->value, 0);
  EXPECT_EQ(fams[1].name, "cilium_bgp_control_plane_advertised_routes");
  EXPECT_EQ(sample(fams[1], "192.0.2.250:179", "ipv4")->value, 2);
  EXPECT_EQ(sample(fams[1], "192.0.2.250:179", "ipv6")->value, 1);
  EXPECT_EQ(sample(fams[1], "[2001:db8::fa]:179", "ipv4")->value, 0);
  EXPECT_EQ(fams[2].name, "cilium_bgp_control_plane_received_routes");
  EXPECT_EQ(sample(fams[2], "192.0.2.250:179", "ipv4")->value, 2);
  EXPECT_EQ(sample(fams[2], "192.0.2.250:179", "ipv6")->value, 1);
  EXPECT_EQ(sample(fams[2], "[2001:db8::fa]:179", "ipv6")->value, 0);
}
