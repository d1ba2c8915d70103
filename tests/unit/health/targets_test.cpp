#include <gtest/gtest.h>

#include "health/targets.h"

using namespace cpp;
using namespace cpp::health;
using nlohmann::json;

namespace {
IpAddr ip(const char* s) { return *IpAddr::parse(s); }

json cilium_node(const std::string& name, json spec) {
  return {{"apiVersion", "cilium.io/v2"}, {"kind", "CiliumNode"}, {"metadata", {{"name", name}}}, {"spec", spec}};
}
}  // namespace

TEST(HealthTargets, CiliumNodeGivesInternalIpsAndHealthIps) {
  auto t = target_from_cilium_node(cilium_node(
      "n2", {{"addresses",
              {{{"type", "InternalIP"}, {"ip", "2001:db8::2"}},
               {{"type", "CiliumInternalIP"}, {"ip", "10.233.65.1"}},
               {{"type", "InternalIP"}, {"ip", "192.0.2.2"}}}},
             {"health", {{"ipv4", "10.233.65.9"}, {"ipv6", "fd00:10:233:2::9"}}}}));
  EXPECT_EQ(t.name, "n2");
  ASSERT_EQ(t.host.size(), 2u);
  EXPECT_EQ(t.host[0], ip("192.0.2.2"));  // IPv4 is the primary address
  EXPECT_EQ(t.host[1], ip("2001:db8::2"));
  ASSERT_EQ(t.endpoint.size(), 2u);
  EXPECT_EQ(t.endpoint[0], ip("10.233.65.9"));
}

TEST(HealthTargets, MissingHealthOrAddressesIsNotAnError) {
  auto t = target_from_cilium_node(cilium_node("n3", json::object()));
  EXPECT_TRUE(t.host.empty());
  EXPECT_TRUE(t.endpoint.empty());
  t = target_from_cilium_node(cilium_node("n3", {{"health", {{"ipv4", ""}}}}));
  EXPECT_TRUE(t.endpoint.empty());
}

TEST(HealthTargets, BadFieldsAreNamed) {
  auto expect_error = [](const json& obj, const std::string& part) {
    try {
      target_from_cilium_node(obj);
      FAIL() << "accepted " << obj.dump();
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  };
  expect_error(cilium_node("n4", {{"addresses", {{{"type", "InternalIP"}, {"ip", "999.1.1.1"}}}}}),
               "CiliumNode n4: spec.addresses[0].ip");
  expect_error(cilium_node("n4", {{"health", {{"ipv4", "fd00::1"}}}}), "spec.health.ipv4");
  expect_error(cilium_node("n4", {{"addresses", "192.0.2.1"}}), "spec.addresses must be an array");
  expect_error(json{{"kind", "CiliumNode"}}, "metadata.name");
}

TEST(HealthTargets, LocalFirstOthersSortedBadOnesSkipped) {
  NodeTarget local{"n1", false, {ip("192.0.2.1")}, {}};
  std::vector<json> nodes{
      cilium_node("n3", {{"addresses", {{{"type", "InternalIP"}, {"ip", "192.0.2.3"}}}}}),
      cilium_node("n1", {{"addresses", {{{"type", "InternalIP"}, {"ip", "192.0.2.111"}}}}}),
      cilium_node("bad", {{"addresses", {{{"type", "InternalIP"}, {"ip", "nope"}}}}}),
      cilium_node("n2", {{"addresses", {{{"type", "InternalIP"}, {"ip", "192.0.2.2"}}}}}),
  };
  std::vector<std::string> warnings;
  auto out = cluster_targets(local, nodes, &warnings);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].name, "n1");
  EXPECT_TRUE(out[0].local);
  EXPECT_EQ(out[0].host[0], ip("192.0.2.1"));  // the agent's own view, not the CiliumNode's
  EXPECT_EQ(out[1].name, "n2");
  EXPECT_EQ(out[2].name, "n3");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("CiliumNode bad"), std::string::npos);
}

TEST(HealthTargets, PrimaryFirstOrdersByFamilyAndDropsDuplicates) {
  auto out = primary_first({ip("fd00::1"), ip("10.0.0.1"), ip("fd00::1"), ip("10.0.0.2")});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0], ip("10.0.0.1"));
  EXPECT_EQ(out[1], ip("10.0.0.2"));
  EXPECT_EQ(out[2], ip("fd00::1"));
}
