#include "bgp/open.h"

#include <gtest/gtest.h>

namespace cpp::bgp {
namespace {

const Family kV4{Afi::IPv4, Safi::Unicast};
const Family kV6{Afi::IPv6, Safi::Unicast};

SessionParams params() {
  SessionParams p;
  p.local_asn = 65001;
  p.router_id = 0x0a000001;
  p.peer_asn = 65002;
  p.hold_time_s = 90;
  p.keepalive_s = 30;
  p.families = {kV4, kV6};
  return p;
}

Open peer_open() {
  Open o;
  o.my_as = 65002;
  o.hold_time_s = 180;
  o.bgp_id = 0x0a000002;
  o.caps.multiprotocol = {kV4, kV6};
  o.caps.four_octet_as = 65002;
  o.caps.route_refresh = true;
  return o;
}

Notification error_of(const std::variant<Negotiated, Notification>& r) {
  EXPECT_TRUE(std::holds_alternative<Notification>(r));
  return std::holds_alternative<Notification>(r) ? std::get<Notification>(r) : Notification{};
}

TEST(BuildOpen, OffersFamiliesRouteRefreshAndFourOctetAs) {
  auto p = params();
  p.local_asn = 4200000001;
  auto o = build_open(p);
  EXPECT_EQ(o.my_as, kAsTrans);
  EXPECT_EQ(o.asn(), 4200000001u);
  EXPECT_EQ(o.hold_time_s, 90);
  EXPECT_EQ(o.bgp_id, 0x0a000001u);
  EXPECT_EQ(o.caps.multiprotocol, (std::vector<Family>{kV4, kV6}));
  EXPECT_TRUE(o.caps.route_refresh);
  EXPECT_FALSE(o.caps.graceful_restart);
}

TEST(BuildOpen, GracefulRestartCarriesRestartStateAndForwardingBits) {
  auto p = params();
  p.graceful_restart = true;
  p.restart_time_s = 120;
  auto fresh = build_open(p);
  ASSERT_TRUE(fresh.caps.graceful_restart);
  EXPECT_FALSE(fresh.caps.graceful_restart->restart_state);
  EXPECT_EQ(fresh.caps.graceful_restart->restart_time_s, 120);
  ASSERT_EQ(fresh.caps.graceful_restart->families.size(), 2u);
  EXPECT_FALSE(fresh.caps.graceful_restart->families[0].forwarding_preserved);
  p.restarting = true;
  auto restarted = build_open(p);
  EXPECT_TRUE(restarted.caps.graceful_restart->restart_state);
  EXPECT_TRUE(restarted.caps.graceful_restart->families[1].forwarding_preserved);
}

TEST(CheckOpen, NegotiatesMinimumHoldAndKeepaliveThird) {
  auto r = check_open(params(), peer_open());
  ASSERT_TRUE(std::holds_alternative<Negotiated>(r));
  auto n = std::get<Negotiated>(r);
  EXPECT_EQ(n.hold_time_s, 90);
  EXPECT_EQ(n.keepalive_s, 30);
  EXPECT_EQ(n.peer_bgp_id, 0x0a000002u);
  EXPECT_TRUE(n.four_octet_as);
  EXPECT_TRUE(n.route_refresh);
  auto o = peer_open();
  o.hold_time_s = 9;
  n = std::get<Negotiated>(check_open(params(), o));
  EXPECT_EQ(n.hold_time_s, 9);
  EXPECT_EQ(n.keepalive_s, 3);
}

TEST(CheckOpen, HoldTimeZeroDisablesKeepalives) {
  auto o = peer_open();
  o.hold_time_s = 0;
  auto n = std::get<Negotiated>(check_open(params(), o));
  EXPECT_EQ(n.hold_time_s, 0);
  EXPECT_EQ(n.keepalive_s, 0);
}

TEST(CheckOpen, HoldTimeOneOrTwoIsUnacceptable) {
  for (uint16_t h : {1, 2}) {
    auto o = peer_open();
    o.hold_time_s = h;
    auto n = error_of(check_open(params(), o));
    EXPECT_EQ(n.code, err::kOpen);
    EXPECT_EQ(n.subcode, err::kUnacceptableHoldTime);
  }
  auto o = peer_open();
  o.hold_time_s = 3;
  EXPECT_TRUE(std::holds_alternative<Negotiated>(check_open(params(), o)));
}

TEST(CheckOpen, WrongVersion) {
  auto o = peer_open();
  o.version = 3;
  auto n = error_of(check_open(params(), o));
  EXPECT_EQ(n.subcode, err::kUnsupportedVersion);
  EXPECT_EQ(n.data, (Bytes{0, 4}));
}

TEST(CheckOpen, WrongPeerAs) {
  auto o = peer_open();
  o.caps.four_octet_as = 65009;
  EXPECT_EQ(error_of(check_open(params(), o)).subcode, err::kBadPeerAs);
  // Without the capability the 2-octet field decides.
  o.caps.four_octet_as.reset();
  o.my_as = 65002;
  EXPECT_TRUE(std::holds_alternative<Negotiated>(check_open(params(), o)));
}

TEST(CheckOpen, FourOctetPeerAsBehindAsTrans) {
  auto p = params();
  p.peer_asn = 4200000002;
  auto o = peer_open();
  o.my_as = kAsTrans;
  o.caps.four_octet_as = 4200000002;
  EXPECT_TRUE(std::holds_alternative<Negotiated>(check_open(p, o)));
  o.caps.four_octet_as.reset();
  EXPECT_EQ(error_of(check_open(p, o)).subcode, err::kBadPeerAs);
}

TEST(CheckOpen, BadBgpIdentifier) {
  for (uint32_t id : {0u, 0xffffffffu, 0x0a000001u}) {
    auto o = peer_open();
    o.bgp_id = id;
    EXPECT_EQ(error_of(check_open(params(), o)).subcode, err::kBadBgpIdentifier) << id;
  }
}

TEST(CheckOpen, MissingFamilyIsUnsupportedCapabilityNamingIt) {
  auto o = peer_open();
  o.caps.multiprotocol = {kV4};
  auto n = error_of(check_open(params(), o));
  EXPECT_EQ(n.code, err::kOpen);
  EXPECT_EQ(n.subcode, err::kUnsupportedCapability);
  EXPECT_EQ(n.data, (Bytes{1, 4, 0, 2, 0, 1}));
}

TEST(CheckOpen, NoMultiprotocolCapabilityImpliesIpv4Only) {
  auto o = peer_open();
  o.caps.multiprotocol.clear();
  auto p = params();
  p.families = {kV4};
  EXPECT_TRUE(std::holds_alternative<Negotiated>(check_open(p, o)));
  p.families = {kV4, kV6};
  EXPECT_EQ(error_of(check_open(p, o)).subcode, err::kUnsupportedCapability);
}

TEST(CheckOpen, FamiliesNotRequiredNegotiateTheCommonOnes) {
  auto p = params();
  p.families_required = false;
  auto o = peer_open();
  o.caps.multiprotocol = {kV6};
  EXPECT_EQ(std::get<Negotiated>(check_open(p, o)).families, (std::vector<Family>{kV6}));
  o.caps.multiprotocol.clear();
  EXPECT_EQ(std::get<Negotiated>(check_open(p, o)).families, (std::vector<Family>{kV4}));
  o.caps.multiprotocol = {kV4, kV6};
  EXPECT_EQ(std::get<Negotiated>(check_open(p, o)).families, (std::vector<Family>{kV4, kV6}));
}

TEST(CheckOpen, FamiliesNotRequiredStillNeedOneInCommon) {
  auto p = params();
  p.families_required = false;
  p.families = {kV6};
  auto o = peer_open();
  o.caps.multiprotocol.clear();
  auto n = error_of(check_open(p, o));
  EXPECT_EQ(n.subcode, err::kUnsupportedCapability);
  EXPECT_EQ(n.data, (Bytes{1, 4, 0, 2, 0, 1}));
}

TEST(CheckOpen, GracefulRestartNeedsBothSides) {
  auto p = params();
  p.graceful_restart = true;
  auto o = peer_open();
  EXPECT_FALSE(std::get<Negotiated>(check_open(p, o)).graceful_restart);
  o.caps.graceful_restart = GracefulRestartCap{false, 90, {}};
  auto n = std::get<Negotiated>(check_open(p, o));
  EXPECT_TRUE(n.graceful_restart);
  EXPECT_EQ(n.peer_restart_time_s, 90);
  p.graceful_restart = false;
  EXPECT_FALSE(std::get<Negotiated>(check_open(p, o)).graceful_restart);
}

TEST(Collision, HigherIdentifiersConnectionSurvives) {
  EXPECT_TRUE(keep_peer_initiated(0x0a000001, 0x0a000002));
  EXPECT_FALSE(keep_peer_initiated(0x0a000002, 0x0a000001));
  // Compared as unsigned 32-bit numbers (RFC 4271 §6.8).
  EXPECT_TRUE(keep_peer_initiated(0x7fffffff, 0x80000000));
}

}  // namespace
}  // namespace cpp::bgp
