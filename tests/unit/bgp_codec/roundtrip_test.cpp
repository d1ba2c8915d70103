// encode then decode gives back the same message, for every message type
// and every attribute the codec knows, in both AS_PATH widths.
#include "hex.h"

namespace cpp::bgp::test {
namespace {

template <class T>
void expect_round_trip(const T& m, DecodeContext ctx = {}) {
  Bytes b = encode(Message{m}, ctx);
  T back = decode_as<T>(b, ctx);
  EXPECT_EQ(back, m) << to_hex(b);
  // And the bytes are stable: encoding the decoded message gives them again.
  EXPECT_EQ(to_hex(encode(Message{back}, ctx)), to_hex(b));
}

TEST(BgpRoundTrip, OpenWithoutCapabilities) {
  Open o;
  o.my_as = 64512;
  o.hold_time_s = 0;
  o.bgp_id = 1;
  expect_round_trip(o);
  EXPECT_EQ(encode(o).size(), 29u);
}

TEST(BgpRoundTrip, OpenWithEveryCapability) {
  Open o;
  o.my_as = kAsTrans;
  o.hold_time_s = 3;
  o.bgp_id = 0xc0a80101;
  o.caps.multiprotocol = {{Afi::IPv4, Safi::Unicast}, {Afi::IPv6, Safi::Unicast}, {Afi{25}, Safi{70}}};
  o.caps.route_refresh = true;
  o.caps.four_octet_as = 4200000001u;
  GracefulRestartCap gr;
  gr.restart_time_s = 4095;
  gr.families = {{{Afi::IPv4, Safi::Unicast}, false}, {{Afi::IPv6, Safi::Unicast}, true}};
  o.caps.graceful_restart = gr;
  o.caps.unknown = {{73, {'n', 'o', 'd', 'e'}}, {70, {}}};
  expect_round_trip(o);
}

TEST(BgpRoundTrip, OpenCapabilitiesSpreadOverParametersAndOldRouteRefresh) {
  // One capability per optional parameter (older speakers) and Cisco's
  // pre-standard route refresh code 128 decode like the compact form.
  Open d = decode_as<Open>(open("04 fde9 005a 0a000001", "0206 01040002 0001" "0202 8000" "0200"));
  ASSERT_EQ(d.caps.multiprotocol.size(), 1u);
  EXPECT_EQ(d.caps.multiprotocol[0], (Family{Afi::IPv6, Safi::Unicast}));
  EXPECT_TRUE(d.caps.route_refresh);
  EXPECT_TRUE(d.caps.unknown.empty());
}

TEST(BgpRoundTrip, UpdateIpv4EveryAttribute) {
  Update u;
  u.withdrawn = {pfx("10.9.0.0/16"), pfx("10.10.10.10/32")};
  u.attrs.origin = Origin::Egp;
  u.attrs.as_path = {{AsPathSegment::Type::Sequence, {65001, 4200000000u}},
                     {AsPathSegment::Type::Set, {1, 2, 3}},
                     {AsPathSegment::Type::ConfedSequence, {64512}}};
  u.attrs.next_hop = ip("192.0.2.1");
  u.attrs.med = 0xffffffff;
  u.attrs.local_pref = 100;
  u.attrs.communities = {0xfde90001, 0xffffff01};
  u.attrs.other = {{0x40, 6, {}},                                   // ATOMIC_AGGREGATE
                   {0xc0, 7, {0, 0, 0xfd, 0xe9, 10, 0, 0, 1}},      // AGGREGATOR, 4-octet
                   {0xe0, 32, Bytes(12, 7)}};                       // LARGE_COMMUNITY, partial
  u.nlri = {pfx("10.1.0.0/24"), pfx("10.2.0.0/15"), pfx("0.0.0.0/0"), pfx("203.0.113.7/32")};
  expect_round_trip(u);
}

TEST(BgpRoundTrip, UpdateTwoOctetAsPath) {
  Update u;
  u.attrs.origin = Origin::Igp;
  u.attrs.as_path = {{AsPathSegment::Type::Sequence, {65001, 1, 65535}}};
  u.attrs.next_hop = ip("10.0.0.1");
  u.attrs.other = {{0xc0, 7, {0xfd, 0xe9, 10, 0, 0, 1}}, {0xc0, 17, {2, 1, 0xfa, 0x56, 0xea, 0}}};  // AGGREGATOR, AS4_PATH
  u.nlri = {pfx("10.1.0.0/24")};
  expect_round_trip(u, DecodeContext{false});
}

TEST(BgpRoundTrip, FourOctetAsnBecomesAsTransOnTwoOctetSessions) {
  Update u;
  u.attrs.origin = Origin::Igp;
  u.attrs.as_path = {{AsPathSegment::Type::Sequence, {4200000000u, 65001}}};
  u.attrs.next_hop = ip("10.0.0.1");
  u.nlri = {pfx("10.1.0.0/24")};
  Update d = decode_as<Update>(encode(u, DecodeContext{false}), DecodeContext{false});
  ASSERT_EQ(d.attrs.as_path.size(), 1u);
  EXPECT_EQ(d.attrs.as_path[0].asns, (std::vector<uint32_t>{kAsTrans, 65001}));
}

TEST(BgpRoundTrip, UpdateIpv6ReachWithLinkLocalNextHop) {
  Update u;
  u.attrs.origin = Origin::Igp;
  u.attrs.as_path = {{AsPathSegment::Type::Sequence, {65001}}};
  u.attrs.communities = {1};
  u.mp_reach = MpReach{{Afi::IPv6, Safi::Unicast}, ip("2001:db8::1"), ip("fe80::1"),
                       {pfx("2001:db8:1::/48"), pfx("::/0"), pfx("2001:db8::7/128"), pfx("2001:db8:8000::/33")}};
  expect_round_trip(u);
  Bytes b = encode(u);
  EXPECT_NE(to_hex(b).find("800e"), std::string::npos);
  EXPECT_NE(to_hex(b).find("0002012020010db8"), std::string::npos) << "32-byte next hop (RFC 2545)";
}

TEST(BgpRoundTrip, UpdateIpv4ViaMpReachAndIpv6Unreach) {
  Update u;
  u.attrs.origin = Origin::Igp;
  u.mp_reach = MpReach{{Afi::IPv4, Safi::Unicast}, ip("10.0.0.1"), std::nullopt, {pfx("10.3.0.0/16")}};
  u.mp_unreach = MpUnreach{{Afi::IPv6, Safi::Unicast}, {pfx("2001:db8:2::/48")}};
  expect_round_trip(u);  // the empty AS_PATH (iBGP) is written because there is reachability
}

TEST(BgpRoundTrip, WithdrawOnlyUpdates) {
  Update u4;
  u4.withdrawn = {pfx("10.1.0.0/24")};
  expect_round_trip(u4);
  Update u6;
  u6.mp_unreach = MpUnreach{{Afi::IPv6, Safi::Unicast}, {pfx("2001:db8:1::/48"), pfx("2001:db8::/32")}};
  expect_round_trip(u6);
  EXPECT_FALSE(u4.end_of_rib());
  EXPECT_FALSE(u6.end_of_rib());
}

TEST(BgpRoundTrip, UnparsedMpFamilyStaysRaw) {
  // L2VPN EVPN (25/70): kept as raw attributes, never an error.
  Bytes b = update("", "800e05 0019 46 00 00" "800f03 0019 46", "");
  Update d = decode_as<Update>(b);
  EXPECT_FALSE(d.mp_reach);
  EXPECT_FALSE(d.mp_unreach);
  ASSERT_EQ(d.attrs.other.size(), 2u);
  EXPECT_EQ(d.attrs.other[0].type, 14);
  EXPECT_EQ(d.attrs.other[1].type, 15);
  expect_round_trip(d);
}

TEST(BgpRoundTrip, ExtendedLengthAttribute) {
  Update u;
  u.attrs.origin = Origin::Igp;
  u.attrs.as_path = {{AsPathSegment::Type::Sequence, {65001}}};
  u.attrs.next_hop = ip("10.0.0.1");
  for (uint32_t i = 0; i < 100; ++i) u.attrs.communities.push_back(i);
  u.nlri = {pfx("10.1.0.0/24")};
  Bytes b = encode(u);
  EXPECT_NE(to_hex(b).find("d0080190"), std::string::npos) << "flags 0xd0 (extended length), 400 bytes";
  expect_round_trip(u);
}

TEST(BgpRoundTrip, LongAsPathSplitsIntoSegments) {
  Update u;
  u.attrs.origin = Origin::Igp;
  u.attrs.next_hop = ip("10.0.0.1");
  u.nlri = {pfx("10.1.0.0/24")};
  std::vector<uint32_t> asns;
  for (uint32_t i = 1; i <= 300; ++i) asns.push_back(i);
  u.attrs.as_path = {{AsPathSegment::Type::Sequence, asns}};
  Update d = decode_as<Update>(encode(u));
  ASSERT_EQ(d.attrs.as_path.size(), 2u);
  EXPECT_EQ(d.attrs.as_path[0].asns.size(), 255u);
  EXPECT_EQ(d.attrs.as_path[1].asns.size(), 45u);
  EXPECT_EQ(d.attrs.as_path[1].asns.back(), 300u);
}

TEST(BgpRoundTrip, AttributesInAnyOrderDecodeTheSame) {
  Bytes sorted = update("", kOrigin + kAsPath4 + kNextHop + "c02004 00000001" + "c06304 00000002", kNlri);
  Bytes shuffled = update("", "c06304 00000002" + kNextHop + "c02004 00000001" + kAsPath4 + kOrigin, kNlri);
  EXPECT_EQ(decode_as<Update>(sorted), decode_as<Update>(shuffled));
  EXPECT_EQ(to_hex(encode(decode_as<Update>(shuffled))), to_hex(sorted));
}

TEST(BgpRoundTrip, NotificationKeepaliveRouteRefresh) {
  expect_round_trip(Notification{err::kUpdate, err::kAttributeFlagsError, {0x40, 1, 1, 0}});
  expect_round_trip(Notification{err::kCease, err::kAdminShutdown, {}});
  expect_round_trip(Keepalive{});
  expect_round_trip(RouteRefresh{{Afi::IPv4, Safi::Unicast}, 0});
  expect_round_trip(RouteRefresh{{Afi::IPv6, Safi::Unicast}, 2});
  expect_round_trip(RouteRefresh{{Afi{25}, Safi{70}}, 0});  // RFC 2918: the session ignores it, the codec keeps it
}

TEST(BgpRoundTrip, EndOfRib) {
  for (Family f : {Family{Afi::IPv4, Safi::Unicast}, Family{Afi::IPv6, Safi::Unicast}}) {
    Update m = Update::end_of_rib_marker(f);
    Update d = decode_as<Update>(encode(m));
    ASSERT_TRUE(d.end_of_rib()) << to_string(f);
    EXPECT_EQ(*d.end_of_rib(), f);
  }
  Update withdraw_v6;
  withdraw_v6.mp_unreach = MpUnreach{{Afi::IPv6, Safi::Unicast}, {pfx("2001:db8::/32")}};
  EXPECT_FALSE(withdraw_v6.end_of_rib());
  Update with_attr = Update::end_of_rib_marker({Afi::IPv4, Safi::Unicast});
  with_attr.attrs.origin = Origin::Igp;
  EXPECT_FALSE(with_attr.end_of_rib());
}

TEST(BgpRoundTrip, EncodeClearsHostBits) {
  Update u;
  u.withdrawn = {IpPrefix{ip("10.1.1.1"), 23}};
  u.mp_unreach = MpUnreach{{Afi::IPv6, Safi::Unicast}, {IpPrefix{ip("2001:db8::1"), 33}}};
  Update d = decode_as<Update>(encode(u));
  EXPECT_EQ(d.withdrawn, (std::vector<IpPrefix>{pfx("10.1.0.0/23")}));
  EXPECT_EQ(d.mp_unreach->withdrawn, (std::vector<IpPrefix>{pfx("2001:db8::/33")}));
}

TEST(BgpRoundTrip, EncodeRejectsWhatCannotBeSent) {
  Update big;
  big.attrs.origin = Origin::Igp;
  big.attrs.next_hop = ip("10.0.0.1");
  for (int i = 0; i < 1100; ++i) big.nlri.push_back(IpPrefix{ip("10.0.0.0").offset(i * 256), 24});
  EXPECT_THROW(encode(big), std::invalid_argument);
  Update v6_in_v4;
  v6_in_v4.nlri = {pfx("2001:db8::/32")};
  EXPECT_THROW(encode(v6_in_v4), std::invalid_argument);
  Update v6_next_hop;
  v6_next_hop.attrs.next_hop = ip("2001:db8::1");
  EXPECT_THROW(encode(v6_next_hop), std::invalid_argument);
  Update v4_in_v6;
  v4_in_v6.mp_reach = MpReach{{Afi::IPv6, Safi::Unicast}, ip("2001:db8::1"), std::nullopt, {pfx("10.0.0.0/8")}};
  EXPECT_THROW(encode(v4_in_v6), std::invalid_argument);
  Update v4_next_hop_for_v6;
  v4_next_hop_for_v6.mp_reach = MpReach{{Afi::IPv6, Safi::Unicast}, ip("10.0.0.1"), std::nullopt, {}};
  EXPECT_THROW(encode(v4_next_hop_for_v6), std::invalid_argument);
  Update evpn;
  evpn.mp_unreach = MpUnreach{{Afi{25}, Safi{70}}, {}};
  EXPECT_THROW(encode(evpn), std::invalid_argument);
  Open many_caps;
  many_caps.bgp_id = 1;
  for (int i = 0; i < 70; ++i) many_caps.caps.multiprotocol.push_back({Afi::IPv4, Safi::Unicast});
  EXPECT_THROW(encode(many_caps), std::invalid_argument);
}

}  // namespace
}  // namespace cpp::bgp::test
