#include <gtest/gtest.h>

#include "bgp/bgp_format.h"
#include "test_util.h"

using namespace cpp;
using namespace cpp::bgp;
using namespace bgp_test;

namespace {

const Family kV4{Afi::IPv4, Safi::Unicast};
const Family kV6{Afi::IPv6, Safi::Unicast};

std::vector<PeerStatus> peers() {
  PeerStatus up;
  up.local_asn = 64512;
  up.peer_address = ip("fd00:10::1");
  up.peer_asn = 64513;
  up.state = SessionState::Established;
  up.uptime = std::chrono::seconds(3725);
  up.families = {kV4, kV6};
  up.hold_time_s = 90;
  up.keepalive_s = 30;
  up.graceful_restart = true;
  up.advertised = 4;
  up.received = 3;
  up.received_by_family = {{kV4, 2}, {kV6, 1}};
  up.stale = 1;
  PeerStatus down;
  down.local_asn = 64512;
  down.peer_address = ip("10.0.0.1");
  down.peer_asn = 65000;
  down.state = SessionState::Active;
  down.uptime = std::chrono::seconds(99);  // stale: not established, shown as 0s
  down.last_error = "hold timer expired";
  return {up, down};
}

RouteStatus route(uint32_t asn, const char* peer, const char* prefix, const char* nh = nullptr) {
  RouteStatus r;
  r.local_asn = asn;
  if (peer) r.peer_address = ip(peer);
  r.route.prefix = pfx(prefix);
  if (nh) r.route.next_hop = ip(nh);
  return r;
}

}  // namespace

TEST(BgpFormat, Uptime) {
  EXPECT_EQ(uptime_str(std::chrono::seconds(0)), "0s");
  EXPECT_EQ(uptime_str(std::chrono::seconds(59)), "59s");
  EXPECT_EQ(uptime_str(std::chrono::seconds(62)), "1m2s");
  EXPECT_EQ(uptime_str(std::chrono::seconds(3605)), "1h0m5s");
  EXPECT_EQ(uptime_str(std::chrono::seconds(90061)), "25h1m1s");
}

TEST(BgpFormat, Families) {
  EXPECT_EQ(family_str(kV4), "ipv4/unicast");
  EXPECT_EQ(family_str(kV6), "ipv6/unicast");
  EXPECT_EQ(parse_family("ipv6", "unicast"), kV6);
  EXPECT_EQ(parse_family("ipv4", "unicast"), kV4);
  EXPECT_FALSE(parse_family("ipv4", "multicast"));
  EXPECT_FALSE(parse_family("l2vpn", "evpn"));
}

TEST(BgpFormat, PeersTable) {
  EXPECT_EQ(format_peers(peers()),
            "Local AS   Peer AS   Peer Address   Session       Uptime   Family         Received   Advertised\n"
            "64512      65000     10.0.0.1       active        0s                      0          0\n"
            "64512      64513     fd00:10::1     established   1h2m5s   ipv4/unicast   2          4\n"
            "                                                           ipv6/unicast   1\n");
  EXPECT_EQ(format_peers({}),
            "Local AS   Peer AS   Peer Address   Session   Uptime   Family   Received   Advertised\n");
}

TEST(BgpFormat, PeersJson) {
  auto j = peers_json(peers());
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["local-asn"], 64512);
  EXPECT_EQ(j[0]["peer-asn"], 64513);
  EXPECT_EQ(j[0]["peer-address"], "fd00:10::1");
  EXPECT_EQ(j[0]["session-state"], "established");
  EXPECT_EQ(j[0]["uptime-nanoseconds"], 3725000000000LL);
  EXPECT_EQ(j[0]["families"], nlohmann::json::parse(R"([{"afi":"ipv4","safi":"unicast"},{"afi":"ipv6","safi":"unicast"}])"));
  EXPECT_EQ(j[0]["applied-hold-time-seconds"], 90);
  EXPECT_EQ(j[0]["applied-keep-alive-time-seconds"], 30);
  EXPECT_EQ(j[0]["graceful-restart"]["enabled"], true);
  EXPECT_EQ(j[0]["received"], 3);
  EXPECT_EQ(j[0]["received-by-family"], nlohmann::json::parse(R"({"ipv4/unicast": 2, "ipv6/unicast": 1})"));
  EXPECT_EQ(j[0]["stale"], 1);
  EXPECT_EQ(j[0]["advertised"], 4);
  EXPECT_FALSE(j[0].contains("last-error"));
  EXPECT_EQ(j[1]["session-state"], "active");
  EXPECT_EQ(j[1]["last-error"], "hold timer expired");
}

TEST(BgpFormat, AvailableRoutesTable) {
  std::vector<RouteStatus> rs{route(64512, nullptr, "fd00:244:1::/64"), route(64512, nullptr, "10.244.1.0/24"),
                              route(64512, nullptr, "203.0.113.5/32", "192.168.1.5")};
  EXPECT_EQ(format_routes(rs, false),
            "VRouter   Prefix            NextHop       Attrs\n"
            "64512     10.244.1.0/24     0.0.0.0       [{Origin: i} {Nexthop: 0.0.0.0}]\n"
            "64512     203.0.113.5/32    192.168.1.5   [{Origin: i} {Nexthop: 192.168.1.5}]\n"
            "64512     fd00:244:1::/64   ::            [{Origin: i} {MpReach(ipv6-unicast): {Nexthop: ::, NLRIs: "
            "[fd00:244:1::/64]}}]\n");
}

TEST(BgpFormat, AdvertisedRoutesTableAndFilters) {
  std::vector<RouteStatus> rs{route(64512, "10.0.0.2", "10.244.1.0/24"), route(64512, "10.0.0.1", "10.244.1.0/24"),
                              route(64512, "10.0.0.1", "fd00:244:1::/64"), route(64600, "10.0.0.9", "10.244.1.0/24")};
  EXPECT_EQ(format_routes(filter_routes(rs, {kV4, 64512, std::nullopt}), true),
            "VRouter   Peer       Prefix          NextHop   Attrs\n"
            "64512     10.0.0.1   10.244.1.0/24   0.0.0.0   [{Origin: i} {Nexthop: 0.0.0.0}]\n"
            "64512     10.0.0.2   10.244.1.0/24   0.0.0.0   [{Origin: i} {Nexthop: 0.0.0.0}]\n");
  EXPECT_EQ(filter_routes(rs, {kV6, std::nullopt, std::nullopt}).size(), 1u);
  EXPECT_EQ(filter_routes(rs, {std::nullopt, std::nullopt, ip("10.0.0.1")}).size(), 2u);
  EXPECT_EQ(filter_routes(rs, {}).size(), 4u);
}

TEST(BgpFormat, RoutesJson) {
  auto j = routes_json({route(64512, "10.0.0.1", "fd00:244:1::/64"), route(64512, nullptr, "10.0.0.0/8", "10.1.1.1")});
  EXPECT_EQ(j, nlohmann::json::parse(R"([
    {"router-asn": 64512, "neighbor": "10.0.0.1", "prefix": "fd00:244:1::/64",
     "family": {"afi": "ipv6", "safi": "unicast"}},
    {"router-asn": 64512, "prefix": "10.0.0.0/8", "next-hop": "10.1.1.1",
     "family": {"afi": "ipv4", "safi": "unicast"}}])"));
}

TEST(BgpFormat, JsonRoundTripsForApiClients) {
  auto ps = peers();
  auto back = peers_from_json(peers_json(ps));
  ASSERT_EQ(back.size(), ps.size());
  for (size_t i = 0; i < ps.size(); ++i) {
    EXPECT_EQ(back[i].peer_address, ps[i].peer_address);
    EXPECT_EQ(back[i].state, ps[i].state);
    EXPECT_EQ(back[i].uptime, ps[i].uptime);
    EXPECT_EQ(back[i].families, ps[i].families);
    EXPECT_EQ(back[i].received, ps[i].received);
    EXPECT_EQ(back[i].received_by_family, ps[i].received_by_family);
    EXPECT_EQ(back[i].stale, ps[i].stale);
    EXPECT_EQ(back[i].last_error, ps[i].last_error);
  }
  EXPECT_EQ(format_peers(back), format_peers(ps));
  std::vector<RouteStatus> rs{route(64512, "10.0.0.1", "fd00:244:1::/64"), route(64512, nullptr, "10.0.0.0/8", "10.1.1.1")};
  EXPECT_EQ(format_routes(routes_from_json(routes_json(rs)), true), format_routes(rs, true));
}

TEST(BgpFormat, JsonFromAnAgentThatSentGarbageIsAnError) {
  EXPECT_THROW(peers_from_json(nlohmann::json::object()), std::invalid_argument);
  EXPECT_THROW(peers_from_json(nlohmann::json::parse(R"([{"peer-address": "x", "session-state": "established"}])")),
               std::invalid_argument);
  EXPECT_THROW(peers_from_json(nlohmann::json::parse(R"([{"peer-address": "10.0.0.1", "session-state": "up"}])")),
               std::invalid_argument);
  EXPECT_THROW(routes_from_json(nlohmann::json::parse(R"([{"prefix": "10.0.0.300/8"}])")), std::invalid_argument);
  EXPECT_THROW(peers_from_json(nlohmann::json::parse(
                   R"([{"peer-address": "10.0.0.1", "session-state": "idle", "received-by-family": {"ipx/unicast": 1}}])")),
               std::invalid_argument);
}
