#include "bgp/rib_out.h"

#include <gtest/gtest.h>

namespace cpp::bgp {
namespace {

const Family kV4{Afi::IPv4, Safi::Unicast};
const Family kV6{Afi::IPv6, Safi::Unicast};

IpPrefix P(const char* s) { return *IpPrefix::parse(s); }
IpAddr A(const char* s) { return *IpAddr::parse(s); }

RibOutContext v4_session() {
  RibOutContext c;
  c.local_asn = 65001;
  c.families = {kV4, kV6};
  c.local_v4 = A("192.0.2.1");
  return c;
}

TEST(RibOut, NextHopFromRouteOrSessionAndIpv6WithoutOneSkipped) {
  std::vector<Route> routes{{P("10.0.0.0/24"), std::nullopt},
                            {P("10.1.0.0/24"), A("192.0.2.9")},
                            {P("2001:db8:1::/64"), A("2001:db8::1")},
                            {P("2001:db8:2::/64"), std::nullopt}};
  auto r = resolve_routes(routes, v4_session());
  EXPECT_EQ(r.routes.size(), 3u);
  EXPECT_EQ(r.routes.at(P("10.0.0.0/24")), A("192.0.2.1"));
  EXPECT_EQ(r.routes.at(P("10.1.0.0/24")), A("192.0.2.9"));
  EXPECT_EQ(r.routes.at(P("2001:db8:1::/64")), A("2001:db8::1"));
  ASSERT_EQ(r.skipped.size(), 1u);
  EXPECT_NE(r.skipped[0].find("2001:db8:2::/64"), std::string::npos);
}

TEST(RibOut, FamiliesNotNegotiatedAreLeftOut) {
  auto ctx = v4_session();
  ctx.families = {kV4};
  auto r = resolve_routes({{P("2001:db8:1::/64"), A("2001:db8::1")}}, ctx);
  EXPECT_TRUE(r.routes.empty());
  EXPECT_TRUE(r.skipped.empty());
}

TEST(RibOut, EbgpAnnouncementsCarryOriginAsPathNextHop) {
  auto ctx = v4_session();
  RibOut desired{{P("10.0.0.0/24"), A("192.0.2.1")}, {P("2001:db8:1::/64"), A("2001:db8::1")}};
  auto us = diff_updates({}, desired, ctx);
  ASSERT_EQ(us.size(), 2u);
  for (const auto& u : us) {
    EXPECT_EQ(u.attrs.origin, Origin::Igp);
    ASSERT_EQ(u.attrs.as_path.size(), 1u);
    EXPECT_EQ(u.attrs.as_path[0].asns, std::vector<uint32_t>{65001});
    EXPECT_FALSE(u.attrs.local_pref);
  }
  const auto& v4 = us[0].nlri.empty() ? us[1] : us[0];
  const auto& v6 = us[0].nlri.empty() ? us[0] : us[1];
  EXPECT_EQ(v4.nlri, std::vector<IpPrefix>{P("10.0.0.0/24")});
  EXPECT_EQ(v4.attrs.next_hop, A("192.0.2.1"));
  ASSERT_TRUE(v6.mp_reach);
  EXPECT_EQ(v6.mp_reach->next_hop, A("2001:db8::1"));
  EXPECT_EQ(v6.mp_reach->nlri, std::vector<IpPrefix>{P("2001:db8:1::/64")});
  // Every message encodes within the limits.
  for (const auto& u : us) EXPECT_LE(encode(u).size(), kMaxMessageLen);
}

TEST(RibOut, IbgpHasEmptyAsPathAndLocalPref) {
  auto ctx = v4_session();
  ctx.ebgp = false;
  auto us = diff_updates({}, {{P("10.0.0.0/24"), A("192.0.2.1")}}, ctx);
  ASSERT_EQ(us.size(), 1u);
  EXPECT_TRUE(us[0].attrs.as_path.empty());
  EXPECT_EQ(us[0].attrs.local_pref, 100u);
}

TEST(RibOut, TwoOctetPeerSeesAsTransForAFourOctetAsn) {
  auto ctx = v4_session();
  ctx.local_asn = 4200000001;
  ctx.four_octet_as = false;
  auto us = diff_updates({}, {{P("10.0.0.0/24"), A("192.0.2.1")}}, ctx);
  ASSERT_EQ(us.size(), 1u);
  EXPECT_EQ(us[0].attrs.as_path[0].asns, std::vector<uint32_t>{kAsTrans});
  ctx.four_octet_as = true;
  us = diff_updates({}, {{P("10.0.0.0/24"), A("192.0.2.1")}}, ctx);
  EXPECT_EQ(us[0].attrs.as_path[0].asns, std::vector<uint32_t>{4200000001u});
}

TEST(RibOut, OnlyDifferencesAreSent) {
  auto ctx = v4_session();
  RibOut sent{{P("10.0.0.0/24"), A("192.0.2.1")},
              {P("10.2.0.0/24"), A("192.0.2.1")},
              {P("2001:db8:1::/64"), A("2001:db8::1")}};
  RibOut desired{{P("10.0.0.0/24"), A("192.0.2.1")}, {P("10.2.0.0/24"), A("192.0.2.7")}};
  auto us = diff_updates(sent, desired, ctx);
  ASSERT_EQ(us.size(), 2u);
  ASSERT_TRUE(us[0].mp_unreach);
  EXPECT_EQ(us[0].mp_unreach->withdrawn, std::vector<IpPrefix>{P("2001:db8:1::/64")});
  EXPECT_EQ(us[1].nlri, std::vector<IpPrefix>{P("10.2.0.0/24")});
  EXPECT_EQ(us[1].attrs.next_hop, A("192.0.2.7"));
  EXPECT_TRUE(diff_updates(desired, desired, ctx).empty());
}

TEST(RibOut, ManyPrefixesSplitIntoMessagesThatFit) {
  auto ctx = v4_session();
  RibOut desired;
  for (int i = 0; i < 1000; ++i) {
    IpPrefix p = P("2001:db8::/128");
    p.addr = p.addr.offset(i);
    desired[p] = A("2001:db8::1");
  }
  auto us = diff_updates({}, desired, ctx);
  EXPECT_GT(us.size(), 1u);
  size_t total = 0;
  for (const auto& u : us) {
    EXPECT_LE(encode(u).size(), kMaxMessageLen);
    total += u.mp_reach->nlri.size();
  }
  EXPECT_EQ(total, 1000u);
}

TEST(RibOut, EndOfRibPerFamilyIsRecognised) {
  auto us = end_of_rib({kV4, kV6});
  ASSERT_EQ(us.size(), 2u);
  EXPECT_EQ(us[0].end_of_rib(), kV4);
  EXPECT_EQ(us[1].end_of_rib(), kV6);
  for (const auto& u : us) {
    auto m = decode(encode(u).data(), encode(u).size(), {});
    ASSERT_TRUE(std::holds_alternative<Message>(m));
    EXPECT_EQ(std::get<Update>(std::get<Message>(m)).end_of_rib(), u.end_of_rib());
  }
}

}  // namespace
}  // namespace cpp::bgp
