// Exact wire layouts of known messages, written by hand from RFC 4271 §4,
// RFC 5492, RFC 6793, RFC 4724 and RFC 4760.
#include "hex.h"

namespace cpp::bgp::test {
namespace {

TEST(BgpLayout, Keepalive) {
  EXPECT_EQ(to_hex(encode(Keepalive{})), kMarker + "001304");
  decode_as<Keepalive>(hex(kMarker + "001304"));
}

const std::string kOpenHex = kMarker +
                             "003b 01"        // length 59, OPEN
                             "04 fde9 005a"   // version 4, AS 65001, hold 90
                             "0a000001 1e"    // BGP ID 10.0.0.1, 30 bytes of parameters
                             "02 1c"          // capabilities, 28 bytes
                             "01 04 0001 00 01"   // MP ipv4-unicast
                             "01 04 0002 00 01"   // MP ipv6-unicast
                             "02 00"              // route refresh
                             "41 04 0000fde9"     // 4-octet AS 65001
                             "40 06 8078 0001 01 80";  // GR: R bit, 120 s; ipv4-unicast with F bit

Open sample_open() {
  Open o;
  o.my_as = 65001;
  o.hold_time_s = 90;
  o.bgp_id = 0x0a000001;
  o.caps.multiprotocol = {{Afi::IPv4, Safi::Unicast}, {Afi::IPv6, Safi::Unicast}};
  o.caps.route_refresh = true;
  o.caps.four_octet_as = 65001;
  GracefulRestartCap gr;
  gr.restart_state = true;
  gr.restart_time_s = 120;
  gr.families = {{{Afi::IPv4, Safi::Unicast}, true}};
  o.caps.graceful_restart = gr;
  return o;
}

TEST(BgpLayout, OpenWithCapabilities) {
  EXPECT_EQ(to_hex(encode(sample_open())), to_hex(hex(kOpenHex)));
  Open d = decode_as<Open>(hex(kOpenHex));
  EXPECT_EQ(d, sample_open());
  EXPECT_EQ(d.asn(), 65001u);
}

TEST(BgpLayout, OpenFromFourOctetAsSpeaker) {
  // AS 4200000000 travels as AS_TRANS in My AS and in full in capability 65.
  Open d = decode_as<Open>(open("04 5ba0 00b4 c0a80001", "02 06 41 04 fa56ea00"));
  EXPECT_EQ(d.my_as, kAsTrans);
  EXPECT_EQ(d.asn(), 4200000000u);
  EXPECT_EQ(d.hold_time_s, 180);
}

const std::string kUpdate6Hex = kMarker +
                                "0043 02"  // length 67, UPDATE
                                "0000"     // no withdrawn routes
                                "002c"     // 44 bytes of attributes
                                "80 0e 1c 0002 01 10 20010db8000000000000000000000001 00 30 20010db80001"
                                "40 01 01 00"               // ORIGIN IGP
                                "40 02 06 02 01 0000fde9";  // AS_PATH SEQUENCE [65001]

Update sample_update6() {
  Update u;
  u.attrs.origin = Origin::Igp;
  u.attrs.as_path = {{AsPathSegment::Type::Sequence, {65001}}};
  u.mp_reach = MpReach{{Afi::IPv6, Safi::Unicast}, ip("2001:db8::1"), std::nullopt, {pfx("2001:db8:1::/48")}};
  return u;
}

TEST(BgpLayout, UpdateWithMpReachIpv6) {
  EXPECT_EQ(to_hex(encode(sample_update6())), to_hex(hex(kUpdate6Hex)));
  Update d = decode_as<Update>(hex(kUpdate6Hex));
  EXPECT_EQ(d, sample_update6());
  EXPECT_FALSE(d.treat_as_withdraw) << d.treat_as_withdraw_reason;
}

TEST(BgpLayout, UpdateIpv4WithTwoOctetAsPath) {
  Update u;
  u.attrs.origin = Origin::Incomplete;
  u.attrs.as_path = {{AsPathSegment::Type::Sequence, {65001, 4200000000u}}};
  u.attrs.next_hop = ip("10.0.0.1");
  u.attrs.med = 5;
  u.nlri = {pfx("10.1.0.0/24"), pfx("0.0.0.0/0"), pfx("192.168.0.0/17")};
  std::string want = kMarker + "003b 02 0000 001b" + "40010102" + "400206 0202 fde9 5ba0" + kNextHop +
                     "800404 00000005" + "180a0100" + "00" + "11c0a800";
  EXPECT_EQ(to_hex(encode(u, DecodeContext{false})), to_hex(hex(want)));
}

TEST(BgpLayout, NotificationAndRouteRefresh) {
  EXPECT_EQ(to_hex(encode(Notification{err::kCease, err::kAdminShutdown, {}})), to_hex(hex(kMarker + "0015 03 06 02")));
  EXPECT_EQ(to_hex(encode(Notification{err::kOpen, err::kUnsupportedVersion, {0, 4}})),
            to_hex(hex(kMarker + "0017 03 02 01 0004")));
  EXPECT_EQ(to_hex(encode(RouteRefresh{{Afi::IPv6, Safi::Unicast}, 0})), to_hex(hex(kMarker + "0017 05 0002 00 01")));
}

TEST(BgpLayout, EndOfRibMarkers) {
  EXPECT_EQ(to_hex(encode(Update::end_of_rib_marker({Afi::IPv4, Safi::Unicast}))),
            to_hex(hex(kMarker + "0017 02 0000 0000")));
  EXPECT_EQ(to_hex(encode(Update::end_of_rib_marker({Afi::IPv6, Safi::Unicast}))),
            to_hex(hex(kMarker + "001d 02 0000 0006 800f03 0002 01")));
}

}  // namespace
}  // namespace cpp::bgp::test
