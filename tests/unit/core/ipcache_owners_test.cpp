#include <gtest/gtest.h>

#include "agent/ipcache_owners.h"

using cpp::IpPrefix;
using namespace cpp::agent;

namespace {
IpPrefix p(const char* s) { return *IpPrefix::parse(s); }
}  // namespace

TEST(IpcacheOwners, HigherSourceWinsAndLowerClaimsDoNotRelabel) {
  IpcacheOwners o;
  EXPECT_EQ(o.set(p("10.0.0.5/32"), IpcacheSource::Endpoint, 300)->identity, 300u);
  EXPECT_EQ(o.set(p("10.0.0.5/32"), IpcacheSource::Cidr, 16777217), std::nullopt)
      << "an exact CIDR rule must not relabel a pod";
  EXPECT_EQ(o.winner(p("10.0.0.5/32")), 300u);
}

TEST(IpcacheOwners, RemovingTheWinnerFallsBackAndTheLastClaimDeletes) {
  IpcacheOwners o;
  o.set(p("192.0.2.11/32"), IpcacheSource::Cidr, 16777217);
  EXPECT_EQ(o.set(p("192.0.2.11/32"), IpcacheSource::Host, 1)->identity, 1u);
  auto r = o.remove(p("192.0.2.11/32"), IpcacheSource::Cidr);
  EXPECT_FALSE(r.changed) << "the host entry stays when the CIDR rule goes";
  r = o.remove(p("192.0.2.11/32"), IpcacheSource::Host);
  EXPECT_TRUE(r.changed);
  EXPECT_FALSE(r.entry) << "no claim left: delete the key";
  EXPECT_FALSE(o.remove(p("192.0.2.11/32"), IpcacheSource::Host).changed);
}

TEST(IpcacheOwners, EndpointLeavingRestoresTheCidrIdentity) {
  IpcacheOwners o;
  o.set(p("10.0.0.5/32"), IpcacheSource::Cidr, 16777218);
  o.set(p("10.0.0.5/32"), IpcacheSource::Endpoint, 300);
  auto r = o.remove(p("10.0.0.5/32"), IpcacheSource::Endpoint);
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(r.entry->identity, 16777218u);
}

namespace {
cpp::IpAddr a(const char* s) { return *cpp::IpAddr::parse(s); }
}  // namespace

TEST(IpcacheOwners, LocalClaimsBeatRemoteOnesAndDropTheTunnel) {
  IpcacheOwners o;
  auto e = o.set(p("10.233.65.7/32"), IpcacheSource::RemoteEndpoint, IpcacheClaim{400, a("192.0.2.2")});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->identity, 400u);
  EXPECT_EQ(e->tunnel, a("192.0.2.2"));
  e = o.set(p("10.233.65.7/32"), IpcacheSource::Endpoint, 300);
  ASSERT_TRUE(e) << "the address moved here: the local endpoint wins";
  EXPECT_EQ(e->identity, 300u);
  EXPECT_FALSE(e->tunnel) << "a local winner is never tunnelled";
  auto r = o.remove(p("10.233.65.7/32"), IpcacheSource::Endpoint);
  ASSERT_TRUE(r.changed);
  EXPECT_EQ(r.entry, (IpcacheEntry{400, a("192.0.2.2")})) << "the remote claim is back";
}

TEST(IpcacheOwners, CidrIdentityOnARemotePodCidrKeepsTheTunnel) {
  IpcacheOwners o;
  o.set(p("10.233.65.0/24"), IpcacheSource::TunnelRoute, IpcacheClaim{2, a("192.0.2.2")});
  auto e = o.set(p("10.233.65.0/24"), IpcacheSource::Cidr, 16777220);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->identity, 16777220u);
  EXPECT_EQ(e->tunnel, a("192.0.2.2"));
  EXPECT_EQ(e->value().tunnel_endpoint, 0x020200c0u) << "network order in the map";
  auto r = o.remove(p("10.233.65.0/24"), IpcacheSource::TunnelRoute);
  ASSERT_TRUE(r.changed);
  EXPECT_EQ(r.entry, (IpcacheEntry{16777220, std::nullopt})) << "node gone: the CIDR identity stays, untunnelled";
}

TEST(IpcacheOwners, RemoteNodeBeatsRemoteEndpointAndHostBeatsRemoteNode) {
  IpcacheOwners o;
  o.set(p("10.233.65.1/32"), IpcacheSource::RemoteEndpoint, IpcacheClaim{500, a("192.0.2.2")});
  auto e = o.set(p("10.233.65.1/32"), IpcacheSource::RemoteNode, IpcacheClaim{6, a("192.0.2.2")});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->identity, 6u);
  e = o.set(p("10.233.65.1/32"), IpcacheSource::Host, 1);
  ASSERT_TRUE(e);
  EXPECT_EQ(*e, (IpcacheEntry{1, std::nullopt}));
  EXPECT_FALSE(o.set(p("10.233.65.1/32"), IpcacheSource::RemoteNode, IpcacheClaim{6, a("192.0.2.3")}))
      << "a change under the winner changes nothing";
}
