#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "ipam/node_ipam.h"

namespace fs = std::filesystem;
using cpp::IpAddr;
using cpp::IpPrefix;
using namespace cpp::ipam;

TEST(Pool, SkipsNetworkRouterAndBroadcast) {
  Pool p(*IpPrefix::parse("10.0.0.0/30"));
  EXPECT_EQ(p.router().str(), "10.0.0.1");
  EXPECT_EQ(p.capacity(), 1u);
  auto a = p.allocate("a");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->str(), "10.0.0.2");
  EXPECT_FALSE(p.allocate("b"));  // .3 is broadcast
}

TEST(Pool, SameOwnerSameAddressAndNextFitAfterRelease) {
  Pool p(*IpPrefix::parse("10.0.0.0/29"));
  auto a = p.allocate("a");
  EXPECT_EQ(p.allocate("a"), a);
  auto b = p.allocate("b");
  p.release("a");
  auto c = p.allocate("c");
  ASSERT_TRUE(c);
  EXPECT_NE(*c, *a) << "a just-released address must not be handed out next";
  EXPECT_NE(*c, *b);
}

TEST(Pool, ExhaustsAndRecovers) {
  Pool p(*IpPrefix::parse("10.0.0.0/28"));
  std::set<IpAddr> seen;
  for (int i = 0; i < 13; ++i) {
    auto a = p.allocate("o" + std::to_string(i));
    ASSERT_TRUE(a) << i;
    EXPECT_TRUE(seen.insert(*a).second);
  }
  EXPECT_FALSE(p.allocate("extra"));
  p.release("o5");
  EXPECT_TRUE(p.allocate("extra"));
}

TEST(Pool, Ipv6HasNoBroadcast) {
  Pool p(*IpPrefix::parse("fd00::/126"));
  EXPECT_EQ(p.allocate("a")->str(), "fd00::2");
  EXPECT_EQ(p.allocate("b")->str(), "fd00::3");
  EXPECT_FALSE(p.allocate("c"));
}

TEST(Pool, RestoreRejectsReservedForeignAndDuplicate) {
  Pool p(*IpPrefix::parse("10.0.0.0/24"));
  EXPECT_FALSE(p.restore("a", *IpAddr::parse("10.0.0.1")));
  EXPECT_FALSE(p.restore("a", *IpAddr::parse("10.0.1.5")));
  EXPECT_TRUE(p.restore("a", *IpAddr::parse("10.0.0.9")));
  EXPECT_FALSE(p.restore("b", *IpAddr::parse("10.0.0.9")));
}

class NodeIpamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cpp-ipam-test-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    file_ = (dir_ / "ipam.json").string();
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  std::string file_;
};

TEST_F(NodeIpamTest, DualStackAllocationPersistsAcrossRestart) {
  auto v4 = IpPrefix::parse("10.233.64.0/24");
  auto v6 = IpPrefix::parse("fd00:10:233:1::/64");
  Allocation first;
  {
    NodeIpam ipam(v4, v6, file_);
    first = ipam.allocate("c1:eth0");
    ASSERT_TRUE(first.ipv4 && first.ipv6);
    ipam.allocate("c2:eth0");
  }
  NodeIpam again(v4, v6, file_);
  EXPECT_TRUE(again.restore().empty());
  auto l = again.lookup("c1:eth0");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->ipv4, first.ipv4);
  EXPECT_EQ(l->ipv6, first.ipv6);
  auto c3 = again.allocate("c3:eth0");
  EXPECT_NE(c3.ipv4, first.ipv4);
  EXPECT_NE(c3.ipv4, again.lookup("c2:eth0")->ipv4);
  EXPECT_TRUE(again.release("c1:eth0"));
  EXPECT_FALSE(again.release("c1:eth0"));
}

TEST_F(NodeIpamTest, ChangedCidrDropsRecordsWithWarning) {
  {
    NodeIpam ipam(IpPrefix::parse("10.233.64.0/24"), std::nullopt, file_);
    ipam.allocate("c1:eth0");
  }
  NodeIpam moved(IpPrefix::parse("10.233.65.0/24"), std::nullopt, file_);
  auto warnings = moved.restore();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("c1:eth0"), std::string::npos);
  EXPECT_FALSE(moved.lookup("c1:eth0"));
}

TEST_F(NodeIpamTest, ExhaustionIsAllOrNothing) {
  NodeIpam ipam(IpPrefix::parse("10.0.0.0/24"), IpPrefix::parse("fd00::/126"), file_);
  ipam.allocate("a");
  ipam.allocate("b");
  EXPECT_THROW(ipam.allocate("c"), std::runtime_error);
  EXPECT_FALSE(ipam.lookup("c")) << "the IPv4 half must be rolled back";
}
