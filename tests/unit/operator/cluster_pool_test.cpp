#include <gtest/gtest.h>

#include <set>

#include "ipam/cluster_pool.h"

using cpp::IpPrefix;
using namespace cpp::ipam;

namespace {
IpPrefix P(const char* s) { return *IpPrefix::parse(s); }
std::string S(const std::vector<IpPrefix>& v) {
  std::string out;
  for (const auto& p : v) out += (out.empty() ? "" : ",") + p.str();
  return out;
}
}  // namespace

TEST(ClusterPool, AllocatesLowestFreeBlockPerNodeAndIsIdempotent) {
  ClusterPool pool({P("10.233.64.0/18"), 24, std::nullopt, 0});
  EXPECT_EQ(S(pool.allocate("a")), "10.233.64.0/24");
  EXPECT_EQ(S(pool.allocate("b")), "10.233.65.0/24");
  EXPECT_EQ(S(pool.allocate("a")), "10.233.64.0/24");
  EXPECT_TRUE(pool.complete("a"));
  EXPECT_FALSE(pool.complete("c"));
}

TEST(ClusterPool, ReleaseFreesTheBlockForTheNextNode) {
  ClusterPool pool({P("10.0.0.0/8"), 24, std::nullopt, 0});
  pool.allocate("a");
  pool.allocate("b");
  pool.release("a");
  EXPECT_TRUE(pool.of("a").empty());
  EXPECT_EQ(S(pool.allocate("c")), "10.0.0.0/24");
  EXPECT_EQ(S(pool.allocate("a")), "10.0.2.0/24");
}

TEST(ClusterPool, ExhaustionThrowsNamingThePoolAndNeverOverlaps) {
  ClusterPool pool({P("10.1.0.0/23"), 24, std::nullopt, 0});
  std::set<std::string> seen;
  seen.insert(S(pool.allocate("a")));
  seen.insert(S(pool.allocate("b")));
  EXPECT_EQ(seen.size(), 2u);
  try {
    pool.allocate("c");
    FAIL() << "expected PoolExhausted";
  } catch (const PoolExhausted& e) {
    EXPECT_NE(std::string(e.what()).find("10.1.0.0/23"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(pool.of("c").empty());
}

TEST(ClusterPool, RebuildFromExistingAllocationsKeepsThemAndRefusesOverlap) {
  ClusterPool pool({P("10.233.64.0/18"), 24, P("fd00::/104"), 120});
  EXPECT_TRUE(pool.restore("b", {P("10.233.64.0/24"), P("fd00::/120")}).empty());
  // Outside the pool: somebody else's business, skipped silently.
  EXPECT_TRUE(pool.restore("x", {P("192.168.0.0/24")}).empty());
  auto problems = pool.restore("c", {P("10.233.64.0/24")});
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("already assigned to node b"), std::string::npos) << problems[0];
  EXPECT_EQ(pool.restore("d", {P("10.233.66.0/25")}).size(), 1u);  // wrong block size
  EXPECT_EQ(S(pool.allocate("a")), "10.233.65.0/24,fd00::100/120");
  EXPECT_EQ(S(pool.allocate("b")), "10.233.64.0/24,fd00::/120");
}

TEST(ClusterPool, IPv6Blocks) {
  ClusterPool pool({std::nullopt, 0, P("fd00:10::/48"), 64});
  EXPECT_EQ(S(pool.allocate("a")), "fd00:10::/64");
  EXPECT_EQ(S(pool.allocate("b")), "fd00:10:0:1::/64");
  EXPECT_EQ(pool.v6()->capacity(), 65536u);
}

TEST(ClusterPool, AllOrNothingAcrossFamilies) {
  ClusterPool pool({P("10.0.0.0/16"), 24, P("fd00::/120"), 120});
  pool.allocate("a");
  EXPECT_THROW(pool.allocate("b"), PoolExhausted);
  EXPECT_TRUE(pool.of("b").empty());  // the IPv4 block was given back
  EXPECT_EQ(pool.v4()->used(), 1u);
}

TEST(ClusterPool, BadMaskSizeIsAClearError) {
  try {
    ClusterPool pool({P("10.0.0.0/16"), 8, std::nullopt, 0});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("cluster-pool-ipv4-mask-size"), std::string::npos) << e.what();
  }
}

TEST(ClusterPool, OnlyWantedFamiliesGetBlocks) {
  ClusterPool pool({P("10.0.0.0/16"), 24, P("fd00::/104"), 120});
  EXPECT_EQ(S(pool.allocate("a", false, true)), "fd00::/120");
  EXPECT_EQ(pool.v4()->used(), 0u);
  EXPECT_FALSE(pool.complete("a"));
}
