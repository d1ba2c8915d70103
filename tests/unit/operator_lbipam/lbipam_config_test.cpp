#include <gtest/gtest.h>

#include "operator/operator_config.h"

using namespace cpp;

namespace {
config::ConfigDir base() {
  config::ConfigDir d;
  d.values["kvstore"] = "etcd";
  d.values["kvstore-opt"] = R"({"etcd.config": "/e"})";
  return d;
}
}  // namespace

TEST(LbIpamConfig, OnByDefaultWithTheClusterFamilies) {
  auto c = op::make_operator_config(base());
  EXPECT_TRUE(c.enable_lb_ipam);  // upstream: enable-lb-ipam defaults to true
  EXPECT_TRUE(c.enable_ipv4);
  EXPECT_FALSE(c.enable_ipv6);
  auto d = base();
  d.values["enable-ipv6"] = "true";
  d.values["enable-ipv4"] = "false";
  d.values["enable-lb-ipam"] = "false";
  c = op::make_operator_config(d);
  EXPECT_FALSE(c.enable_lb_ipam);
  EXPECT_FALSE(c.enable_ipv4);
  EXPECT_TRUE(c.enable_ipv6);
}
