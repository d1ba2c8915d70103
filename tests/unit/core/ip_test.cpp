#include <gtest/gtest.h>

#include "common/ip.h"

using cpp::IpAddr;
using cpp::IpPrefix;

TEST(IpAddr, ParsesAndFormatsBothFamilies) {
  auto a = IpAddr::parse("10.233.64.5");
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->v6);
  EXPECT_EQ(a->str(), "10.233.64.5");
  auto b = IpAddr::parse("fd00:10:233:1::5");
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->v6);
  EXPECT_EQ(b->str(), "fd00:10:233:1::5");
  EXPECT_FALSE(IpAddr::parse("10.233.64.256"));
  EXPECT_FALSE(IpAddr::parse("fd00::1::2"));
  EXPECT_FALSE(IpAddr::parse(""));
}

TEST(IpAddr, OffsetCarriesAcrossBytes) {
  EXPECT_EQ(IpAddr::parse("10.0.0.255")->offset(1).str(), "10.0.1.0");
  EXPECT_EQ(IpAddr::parse("10.0.1.0")->offset(-1).str(), "10.0.0.255");
  EXPECT_EQ(IpAddr::parse("fd00::ffff")->offset(1).str(), "fd00::1:0");
}

TEST(IpPrefix, RejectsHostBitsAndBadLengths) {
  EXPECT_TRUE(IpPrefix::parse("10.233.64.0/24"));
  EXPECT_FALSE(IpPrefix::parse("10.233.64.1/24"));
  EXPECT_TRUE(IpPrefix::parse("10.233.64.1/24", true));
  EXPECT_FALSE(IpPrefix::parse("10.233.64.0/33"));
  EXPECT_FALSE(IpPrefix::parse("10.233.64.0/"));
  EXPECT_FALSE(IpPrefix::parse("10.233.64.0"));
  EXPECT_FALSE(IpPrefix::parse("fd00::/129"));
}

TEST(IpPrefix, ContainsRespectsFamilyAndLength) {
  auto p = *IpPrefix::parse("10.233.64.0/18");
  EXPECT_TRUE(p.contains(*IpAddr::parse("10.233.127.255")));
  EXPECT_FALSE(p.contains(*IpAddr::parse("10.233.128.0")));
  EXPECT_FALSE(p.contains(*IpAddr::parse("::a0e9:4000")));
  auto q = *IpPrefix::parse("fd00:10:233:1::/64");
  EXPECT_TRUE(q.contains(*IpAddr::parse("fd00:10:233:1:ffff::1")));
  EXPECT_FALSE(q.contains(*IpAddr::parse("fd00:10:233:2::1")));
  EXPECT_EQ(p.size(), 16384u);
}
