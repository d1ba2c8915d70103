#include <gtest/gtest.h>

#include "agent/ipcache_owners.h"

using cpp::IpPrefix;
using namespace cpp::agent;

namespace {
IpPrefix p(const char* s) { return *IpPrefix::parse(s); }
}  // namespace

TEST(IpcacheOwners, HigherSourceWinsAndLowerClaimsDoNotRelabel) {
  IpcacheOwners o;
  EXPECT_EQ(o.set(p("10.0.0.5/32"), IpcacheSource::Endpoint, 300), 300u);
  EXPECT_EQ(o.set(p("10.0.0.5/32"), IpcacheSource::Cidr, 16777217), std::nullopt)
      << "an exact CIDR rule must not relabel a pod";
  EXPECT_EQ(o.winner(p("10.0.0.5/32")), 300u);
}

TEST(IpcacheOwners, RemovingTheWinnerFallsBackAndTheLastClaimDeletes) {
  IpcacheOwners o;
  o.set(p("192.0.2.11/32"), IpcacheSource::Cidr, 16777217);
  EXPECT_EQ(o.set(p("192.0.2.11/32"), IpcacheSource::Host, 1), 1u);
  auto r = o.remove(p("192.0.2.11/32"), IpcacheSource::Cidr);
  EXPECT_FALSE(r.changed) << "the host entry stays when the CIDR rule goes";
  r = o.remove(p("192.0.2.11/32"), IpcacheSource::Host);
  EXPECT_TRUE(r.changed);
  EXPECT_FALSE(r.identity) << "no claim left: delete the key";
  EXPECT_FALSE(o.remove(p("192.0.2.11/32"), IpcacheSource::Host).changed);
}

TEST(IpcacheOwners, EndpointLeavingRestoresTheCidrIdentity) {
  IpcacheOwners o;
  o.set(p("10.0.0.5/32"), IpcacheSource::Cidr, 16777218);
  o.set(p("10.0.0.5/32"), IpcacheSource::Endpoint, 300);
  auto r = o.remove(p("10.0.0.5/32"), IpcacheSource::Endpoint);
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(r.identity, 16777218u);
}
