// Which native devices masquerade, to which addresses (agent/masquerade.h),
// and the config keys that decide it.
#include <gtest/gtest.h>

#include "agent/masquerade.h"
#include "config/agent_config.h"
#include "config/key_rules.h"

using namespace cpp;
using namespace cpp::agent;

namespace {

IpAddr ip(const std::string& s) { return *IpAddr::parse(s); }

std::vector<NativeLink> node_links() {
  return {
      {"lo", 1, {ip("127.0.0.1"), ip("::1")}},
      {"eth0", 2, {ip("fe80::1"), ip("192.0.2.1"), ip("192.0.2.9"), ip("2001:db8::1")}},
      {"eth1", 3, {ip("198.51.100.1")}},
      {"cilium_host", 4, {ip("10.233.64.1"), ip("fd00:cafe::1")}},
      {"lxc1234", 5, {ip("fe80::2")}},
  };
}

MasqSettings both() { return MasqSettings{true, true, {}}; }

}  // namespace

TEST(MasqueradePlan, DefaultRouteDeviceWithItsFirstGlobalAddresses) {
  auto plan = plan_masquerade(both(), node_links(), {"eth0"});
  ASSERT_EQ(plan.targets.size(), 1u);
  EXPECT_EQ(plan.targets[0].name, "eth0");
  EXPECT_EQ(plan.targets[0].ifindex, 2);
  EXPECT_EQ(plan.targets[0].ipv4, ip("192.0.2.1"));
  EXPECT_EQ(plan.targets[0].ipv6, ip("2001:db8::1")) << "link-local is never the SNAT address";
  EXPECT_TRUE(plan.warnings.empty());
}

TEST(MasqueradePlan, WithoutDefaultRouteTheFirstAddressedForeignDevice) {
  auto links = node_links();
  std::swap(links[1], links[2]);  // eth1 listed first
  auto plan = plan_masquerade(both(), links, {"cilium_host"});
  ASSERT_EQ(plan.targets.size(), 1u);
  EXPECT_EQ(plan.targets[0].name, "eth1");
  EXPECT_EQ(plan.targets[0].ipv4, ip("198.51.100.1"));
  EXPECT_FALSE(plan.targets[0].ipv6);
  ASSERT_EQ(plan.warnings.size(), 1u);
  EXPECT_NE(plan.warnings[0].find("no global IPv6"), std::string::npos);
}

TEST(MasqueradePlan, DevicesKeyListsEveryDeviceAndNamesMissingOnes) {
  auto plan = plan_masquerade(MasqSettings{true, false, {"eth1", "eth9", "eth0"}}, node_links(), {"eth0"});
  ASSERT_EQ(plan.targets.size(), 2u);
  EXPECT_EQ(plan.targets[0].name, "eth1");
  EXPECT_EQ(plan.targets[1].name, "eth0");
  EXPECT_FALSE(plan.targets[1].ipv6) << "IPv6 masquerading is off";
  ASSERT_EQ(plan.warnings.size(), 1u);
  EXPECT_NE(plan.warnings[0].find("eth9"), std::string::npos);
}

TEST(MasqueradePlan, NothingWhenOffOrNoForeignDevice) {
  EXPECT_TRUE(plan_masquerade(MasqSettings{}, node_links(), {"eth0"}).targets.empty());
  std::vector<NativeLink> only_ours = {node_links()[0], node_links()[3], node_links()[4]};
  auto plan = plan_masquerade(both(), only_ours, {});
  EXPECT_TRUE(plan.targets.empty());
  ASSERT_EQ(plan.warnings.size(), 1u);
}

TEST(MasqueradeConfig, UpstreamDefaultsAndKeys) {
  config::ConfigDir dir;
  dir.values = {{"ipv4-range", "10.233.64.0/24"}};
  auto c = config::make_agent_config(dir, "n1");
  EXPECT_TRUE(c.enable_ipv4_masquerade);
  EXPECT_FALSE(c.enable_ipv6_masquerade);
  EXPECT_TRUE(c.enable_bpf_masquerade);
  auto s = masq_settings(c);
  EXPECT_TRUE(s.ipv4);
  EXPECT_FALSE(s.ipv6);

  dir.values = {{"ipv4-range", "10.233.64.0/24"}, {"ipv6-range", "fd00::/64"}, {"enable-ipv6", "true"},
                {"enable-ipv6-masquerade", "true"}, {"enable-bpf-masquerade", "false"},
                {"ipv4-native-routing-cidr", "10.0.0.0/8"}, {"devices", "eth0, eth1"}};
  c = config::make_agent_config(dir, "n1");
  EXPECT_EQ(c.ipv4_native_routing_cidr, IpPrefix::parse("10.0.0.0/8"));
  EXPECT_EQ(c.devices, (std::vector<std::string>{"eth0", "eth1"}));
  s = masq_settings(c);
  EXPECT_FALSE(s.ipv4) << "enable-bpf-masquerade=false: ciliumpp has no other masquerading";
  EXPECT_FALSE(s.ipv6);

  for (const char* k : {"enable-bpf-masquerade", "ipv4-native-routing-cidr", "ipv6-native-routing-cidr"})
    EXPECT_TRUE(config::find_rule(k)) << k;
  EXPECT_TRUE(config::check_value(*config::find_rule("ipv4-native-routing-cidr"), "fd00::/8"));
}
