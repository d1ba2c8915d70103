#include <gtest/gtest.h>

#include "ipam/cilium_node.h"

using namespace cpp;
using namespace cpp::ipam;
using json = nlohmann::json;

namespace {
AgentNodeFields fields() {
  AgentNodeFields f;
  f.name = "node-a";
  f.internal_ipv4 = IpAddr::parse("192.0.2.11");
  f.internal_ipv6 = IpAddr::parse("2001:db8::11");
  return f;
}
}  // namespace

TEST(CiliumNode, NewObjectHasTheSeedShape) {
  auto f = fields();
  f.router_ipv4 = IpAddr::parse("10.233.64.1");
  f.health_ipv4 = IpAddr::parse("10.233.64.236");
  f.boot_id = "87c25842-2aac-4dc7-9d8e-44f1d1425a93";
  auto obj = merge_agent_fields(nullptr, f);
  ASSERT_TRUE(obj);
  EXPECT_EQ((*obj)["apiVersion"], "cilium.io/v2");
  EXPECT_EQ((*obj)["kind"], "CiliumNode");
  EXPECT_EQ((*obj)["metadata"]["name"], "node-a");
  EXPECT_EQ((*obj)["spec"]["addresses"],
            json::parse(R"([{"ip":"192.0.2.11","type":"InternalIP"},{"ip":"2001:db8::11","type":"InternalIP"},
                            {"ip":"10.233.64.1","type":"CiliumInternalIP"}])"));
  EXPECT_EQ((*obj)["spec"]["health"], json::parse(R"({"ipv4":"10.233.64.236"})"));
  EXPECT_EQ((*obj)["spec"]["bootid"], "87c25842-2aac-4dc7-9d8e-44f1d1425a93");
  for (const char* k : {"alibaba-cloud", "azure", "encryption", "eni", "ingress"})
    EXPECT_EQ((*obj)["spec"][k], json::object()) << k;
  EXPECT_EQ((*obj)["status"]["ipam"]["operator-status"], json::object());
  EXPECT_EQ(node_addresses(*obj, "CiliumInternalIP").at(0).str(), "10.233.64.1");
}

TEST(CiliumNode, AgentMergeKeepsOperatorFieldsAndIsANoOpWhenNothingChanged) {
  auto obj = *merge_agent_fields(nullptr, fields());
  obj = with_pod_cidrs(obj, {*IpPrefix::parse("10.233.64.0/24")});
  obj["metadata"]["resourceVersion"] = "42";
  EXPECT_FALSE(merge_agent_fields(&obj, fields()));
  auto f = fields();
  f.router_ipv4 = IpAddr::parse("10.233.64.1");
  f.pod_cidrs = {*IpPrefix::parse("10.9.9.0/24")};  // ignored: the object has PodCIDRs
  auto next = merge_agent_fields(&obj, f);
  ASSERT_TRUE(next);
  EXPECT_EQ((*next)["spec"]["ipam"]["podCIDRs"], json::parse(R"(["10.233.64.0/24"])"));
  EXPECT_EQ(node_addresses(*next, "CiliumInternalIP").size(), 1u);
}

TEST(CiliumNode, AgentCidrsFromStateAreWrittenWhenTheObjectHasNone) {
  auto f = fields();
  f.pod_cidrs = {*IpPrefix::parse("10.233.65.0/24")};
  auto obj = merge_agent_fields(nullptr, f);
  EXPECT_EQ((*obj)["spec"]["ipam"]["podCIDRs"], json::parse(R"(["10.233.65.0/24"])"));
}

TEST(CiliumNode, OperatorAddsMissingFamiliesAndManagesTheErrorStatus) {
  auto obj = *merge_agent_fields(nullptr, fields());
  obj = with_operator_error(obj, "pool exhausted");
  EXPECT_EQ(operator_error_of(obj), "pool exhausted");
  obj = with_pod_cidrs(obj, {*IpPrefix::parse("10.0.1.0/24")});
  EXPECT_EQ(operator_error_of(obj), "");
  obj = with_pod_cidrs(obj, {*IpPrefix::parse("10.0.2.0/24"), *IpPrefix::parse("fd00::100/120")});
  EXPECT_EQ(obj["spec"]["ipam"]["podCIDRs"], json::parse(R"(["10.0.1.0/24","fd00::100/120"])"));
}

TEST(CiliumNode, BadPodCidrEntriesAreReported) {
  json obj = {{"spec", {{"ipam", {{"podCIDRs", {"10.0.0.0/24", "nonsense", 7}}}}}}};
  std::vector<std::string> bad;
  auto c = pod_cidrs_of(obj, &bad);
  EXPECT_EQ(c.size(), 1u);
  EXPECT_EQ(bad.size(), 2u);
}
