#include <gtest/gtest.h>

#include "test_util.h"

using namespace cpp;
using namespace cpp::bgp;
using namespace bgp_test;

namespace {

// A valid policy with one router and one neighbor; `neighbor_extra` is
// spliced into the neighbor (YAML, indented to fit).
std::string policy(const std::string& neighbor_extra = "") {
  return R"(
apiVersion: cilium.io/v2alpha1
kind: CiliumBGPPeeringPolicy
metadata:
  name: rack0
spec:
  virtualRouters:
  - localASN: 64512
    neighbors:
    - peerAddress: 10.0.0.1/32
      peerASN: 64513
)" + neighbor_extra;
}

}  // namespace

TEST(PolicyParse, Defaults) {
  auto p = parse(policy());
  EXPECT_EQ(p.name, "rack0");
  EXPECT_FALSE(p.node_selector);
  ASSERT_EQ(p.virtual_routers.size(), 1u);
  auto& vr = p.virtual_routers[0];
  EXPECT_EQ(vr.local_asn, 64512u);
  EXPECT_FALSE(vr.export_pod_cidr);
  EXPECT_FALSE(vr.service_selector);
  EXPECT_FALSE(vr.pod_ip_pool_selector);
  EXPECT_EQ(vr.service_advertisements, std::vector<ServiceAddressType>{ServiceAddressType::LoadBalancerIP});
  ASSERT_EQ(vr.neighbors.size(), 1u);
  auto& n = vr.neighbors[0];
  EXPECT_FALSE(n.auth_secret_ref);
  EXPECT_EQ(n.config.peer_address, ip("10.0.0.1"));
  EXPECT_EQ(n.config.peer_asn, 64513u);
  EXPECT_EQ(n.config.peer_port, 179);
  EXPECT_EQ(n.config.ebgp_multihop_ttl, 1);
  EXPECT_EQ(n.config.connect_retry_s, 120);
  EXPECT_EQ(n.config.hold_time_s, 90);
  EXPECT_EQ(n.config.keepalive_s, 30);
  EXPECT_FALSE(n.config.graceful_restart);
  EXPECT_EQ(n.config.restart_time_s, 120);
  EXPECT_EQ(n.config.families, (std::vector<Family>{{Afi::IPv4, Safi::Unicast}, {Afi::IPv6, Safi::Unicast}}));
  EXPECT_FALSE(n.config.families_required);
  EXPECT_TRUE(n.config.md5_password.empty());
  EXPECT_FALSE(n.config.passive);
}

TEST(PolicyParse, EveryField) {
  auto p = parse(R"(
apiVersion: cilium.io/v2alpha1
kind: CiliumBGPPeeringPolicy
metadata: {name: full}
spec:
  nodeSelector:
    matchLabels: {rack: rack0}
  virtualRouters:
  - localASN: 4200000000
    exportPodCIDR: true
    podIPPoolSelector:
      matchLabels: {pool: blue}
    serviceSelector:
      matchExpressions:
      - {key: bgp, operator: In, values: ["yes"]}
    serviceAdvertisements: [ClusterIP, ExternalIP, LoadBalancerIP]
    neighbors:
    - peerAddress: "fd00:10::1/128"
      peerPort: 1790
      peerASN: 4200000001
      eBGPMultihopTTL: 5
      connectRetryTimeSeconds: 7
      holdTimeSeconds: 9
      keepAliveTimeSeconds: 3
      gracefulRestart: {enabled: true, restartTimeSeconds: 300}
      authSecretRef: bgp-auth
      families:
      - {afi: ipv6, safi: unicast}
)");
  EXPECT_EQ(p.name, "full");
  ASSERT_TRUE(p.node_selector);
  EXPECT_TRUE(p.node_selector->matches({{"rack", "rack0"}}));
  EXPECT_FALSE(p.node_selector->matches({{"rack", "rack1"}}));
  auto& vr = p.virtual_routers.at(0);
  EXPECT_EQ(vr.local_asn, 4200000000u);
  EXPECT_TRUE(vr.export_pod_cidr);
  ASSERT_TRUE(vr.pod_ip_pool_selector);
  EXPECT_TRUE(vr.pod_ip_pool_selector->matches({{"pool", "blue"}}));
  ASSERT_TRUE(vr.service_selector);
  EXPECT_TRUE(vr.service_selector->matches({{"bgp", "yes"}}));
  EXPECT_FALSE(vr.service_selector->matches({}));
  EXPECT_EQ(vr.service_advertisements,
            (std::vector<ServiceAddressType>{ServiceAddressType::ClusterIP, ServiceAddressType::ExternalIP,
                                             ServiceAddressType::LoadBalancerIP}));
  auto& n = vr.neighbors.at(0);
  EXPECT_EQ(n.config.peer_address, ip("fd00:10::1"));
  EXPECT_EQ(n.config.peer_port, 1790);
  EXPECT_EQ(n.config.peer_asn, 4200000001u);
  EXPECT_EQ(n.config.ebgp_multihop_ttl, 5);
  EXPECT_EQ(n.config.connect_retry_s, 7);
  EXPECT_EQ(n.config.hold_time_s, 9);
  EXPECT_EQ(n.config.keepalive_s, 3);
  EXPECT_TRUE(n.config.graceful_restart);
  EXPECT_EQ(n.config.restart_time_s, 300);
  EXPECT_EQ(n.auth_secret_ref, "bgp-auth");
  EXPECT_EQ(n.config.families, (std::vector<Family>{{Afi::IPv6, Safi::Unicast}}));
  EXPECT_TRUE(n.config.families_required);
}

TEST(PolicyParse, GracefulRestartDefaultTimeAndEmptyFamiliesMeanBoth) {
  auto p = parse(policy("      gracefulRestart: {enabled: true}\n      families: []\n"));
  auto& c = p.virtual_routers[0].neighbors[0].config;
  EXPECT_TRUE(c.graceful_restart);
  EXPECT_EQ(c.restart_time_s, 120);
  EXPECT_EQ(c.families.size(), 2u);
  EXPECT_FALSE(c.families_required);
}

namespace {

// The error for the base policy with one value replaced (a JSON pointer).
std::string error_with(const std::string& pointer, const nlohmann::json& value) {
  auto j = yaml(policy());
  j[nlohmann::json::json_pointer(pointer)] = value;
  try {
    parse_peering_policy(j);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

const std::string kN = "/spec/virtualRouters/0/neighbors/0";

}  // namespace

TEST(PolicyParse, AsnErrors) {
  EXPECT_EQ(error_with("/spec/virtualRouters/0/localASN", 0),
            "spec.virtualRouters[0].localASN: 0 is not a valid ASN (1..4294967295)");
  EXPECT_EQ(error_with("/spec/virtualRouters/0/localASN", 4294967296LL),
            "spec.virtualRouters[0].localASN: 4294967296 is not a valid ASN (1..4294967295)");
  EXPECT_EQ(error_with(kN + "/peerASN", 0),
            "spec.virtualRouters[0].neighbors[0].peerASN: 0 is not a valid ASN (1..4294967295)");
  EXPECT_EQ(error_with(kN + "/peerASN", -5),
            "spec.virtualRouters[0].neighbors[0].peerASN: -5 is not a valid ASN (1..4294967295)");
  EXPECT_EQ(error_with(kN + "/peerASN", "64512"),
            "spec.virtualRouters[0].neighbors[0].peerASN: expected an integer, got string");
  EXPECT_EQ(error_with(kN + "/peerASN", nullptr), "spec.virtualRouters[0].neighbors[0].peerASN: missing");
  EXPECT_EQ(error_with(kN + "/peerASN", 4294967295LL), "");
}

TEST(PolicyParse, TimerErrors) {
  EXPECT_EQ(error_with(kN + "/holdTimeSeconds", 2),
            "spec.virtualRouters[0].neighbors[0].holdTimeSeconds: must be 3..65535, got 2");
  EXPECT_EQ(error_with(kN, {{"peerAddress", "10.0.0.1/32"},
                            {"peerASN", 64513},
                            {"holdTimeSeconds", 3},
                            {"keepAliveTimeSeconds", 1}}),
            "");
  EXPECT_EQ(error_with(kN + "/holdTimeSeconds", 20),
            "spec.virtualRouters[0].neighbors[0].keepAliveTimeSeconds: 30 is larger than holdTimeSeconds 20");
  EXPECT_EQ(error_with(kN + "/keepAliveTimeSeconds", 0),
            "spec.virtualRouters[0].neighbors[0].keepAliveTimeSeconds: must be 1..65535, got 0");
  EXPECT_EQ(error_with(kN + "/connectRetryTimeSeconds", 0),
            "spec.virtualRouters[0].neighbors[0].connectRetryTimeSeconds: must be 1..65535, got 0");
  EXPECT_EQ(error_with(kN + "/eBGPMultihopTTL", 256),
            "spec.virtualRouters[0].neighbors[0].eBGPMultihopTTL: must be 1..255, got 256");
  EXPECT_EQ(error_with(kN + "/peerPort", 0),
            "spec.virtualRouters[0].neighbors[0].peerPort: must be 1..65535, got 0");
  EXPECT_EQ(error_with(kN + "/gracefulRestart", {{"enabled", true}, {"restartTimeSeconds", 4096}}),
            "spec.virtualRouters[0].neighbors[0].gracefulRestart.restartTimeSeconds: must be 1..4095, got 4096");
  EXPECT_EQ(error_with(kN + "/gracefulRestart", {{"restartTimeSeconds", 10}}),
            "spec.virtualRouters[0].neighbors[0].gracefulRestart.enabled: missing");
}

TEST(PolicyParse, PeerAddressErrors) {
  const std::string want = "spec.virtualRouters[0].neighbors[0].peerAddress: must be one address in CIDR form "
                           "(10.0.0.1/32 or fd00::1/128), got ";
  EXPECT_EQ(error_with(kN + "/peerAddress", "10.0.0.1"), want + "\"10.0.0.1\"");
  EXPECT_EQ(error_with(kN + "/peerAddress", "10.0.0.0/24"), want + "\"10.0.0.0/24\"");
  EXPECT_EQ(error_with(kN + "/peerAddress", "fd00::1/64"), want + "\"fd00::1/64\"");
  EXPECT_EQ(error_with(kN + "/peerAddress", "peer.example/32"), want + "\"peer.example/32\"");
  EXPECT_EQ(error_with(kN + "/peerAddress", nullptr), "spec.virtualRouters[0].neighbors[0].peerAddress: missing");
  EXPECT_EQ(error_with(kN + "/peerAddress", "fd00::1/128"), "");
}

TEST(PolicyParse, FamilyErrors) {
  auto fam = [](const char* afi, const char* safi) {
    return nlohmann::json::array({{{"afi", afi}, {"safi", safi}}});
  };
  EXPECT_EQ(error_with(kN + "/families", fam("ipv5", "unicast")),
            "spec.virtualRouters[0].neighbors[0].families[0].afi: unknown afi \"ipv5\"");
  EXPECT_EQ(error_with(kN + "/families", fam("ipv4", "anycast")),
            "spec.virtualRouters[0].neighbors[0].families[0].safi: unknown safi \"anycast\"");
  EXPECT_EQ(error_with(kN + "/families", fam("l2vpn", "evpn")),
            "spec.virtualRouters[0].neighbors[0].families[0]: l2vpn/evpn is not supported (ipv4/unicast and "
            "ipv6/unicast are)");
  EXPECT_EQ(error_with(kN + "/families", fam("ipv4", "multicast")),
            "spec.virtualRouters[0].neighbors[0].families[0]: ipv4/multicast is not supported (ipv4/unicast and "
            "ipv6/unicast are)");
  EXPECT_EQ(error_with(kN + "/families", nlohmann::json::array({{{"afi", "ipv4"}, {"safi", "unicast"}},
                                                                {{"afi", "ipv4"}, {"safi", "unicast"}}})),
            "spec.virtualRouters[0].neighbors[0].families[1]: duplicate family");
  EXPECT_EQ(error_with(kN + "/families", nlohmann::json::array({{{"afi", "ipv4"}}})),
            "spec.virtualRouters[0].neighbors[0].families[0].safi: missing");
}

TEST(PolicyParse, StructureErrors) {
  EXPECT_EQ(error_with("/spec/virtualRouters", nlohmann::json::array()),
            "spec.virtualRouters: needs at least one virtual router");
  EXPECT_EQ(error_with("/spec/virtualRouters/0/neighbors", nullptr), "spec.virtualRouters[0].neighbors: missing");
  EXPECT_EQ(error_with("/spec/virtualRouters/0/exportPodCIDR", "true"),
            "spec.virtualRouters[0].exportPodCIDR: expected a boolean, got string");
  EXPECT_EQ(error_with("/spec/virtualRouters/0/serviceAdvertisements", {"PodCIDR"}),
            "spec.virtualRouters[0].serviceAdvertisements[0]: must be LoadBalancerIP, ClusterIP or ExternalIP, got "
            "\"PodCIDR\"");
  EXPECT_EQ(error_with("/spec/nodeSelector", {{"matchExpressions", {{{"key", "a"}, {"operator", "Near"}}}}}),
            "spec.nodeSelector.matchExpressions[0].operator: must be In, NotIn, Exists or DoesNotExist, got "
            "\"Near\"");
  EXPECT_EQ(error_with(kN + "/authSecretRef", ""), "spec.virtualRouters[0].neighbors[0].authSecretRef: empty secret name");
  EXPECT_EQ(error_with("/metadata/name", nullptr), "metadata.name: missing");
}

TEST(PolicyParse, OverlappingVirtualRouters) {
  auto j = yaml(policy());
  auto second = j["spec"]["virtualRouters"][0];
  second["neighbors"][0]["peerAddress"] = "10.0.0.2/32";
  j["spec"]["virtualRouters"].push_back(second);
  EXPECT_THROW(
      {
        try {
          parse_peering_policy(j);
        } catch (const std::invalid_argument& e) {
          EXPECT_STREQ(e.what(),
                       "spec.virtualRouters[1].localASN: 64512 is already the localASN of spec.virtualRouters[0]");
          throw;
        }
      },
      std::invalid_argument);
  j["spec"]["virtualRouters"][1]["localASN"] = 64600;
  EXPECT_NO_THROW(parse_peering_policy(j));
}

TEST(PolicyParse, SameNeighborTwice) {
  auto j = yaml(policy());
  auto& ns = j["spec"]["virtualRouters"][0]["neighbors"];
  ns.push_back(ns[0]);
  ns[1]["peerASN"] = 65000;
  auto err = parse_policy_object(j);
  EXPECT_FALSE(err.policy);
  EXPECT_EQ(err.name, "rack0");
  EXPECT_EQ(err.error,
            "spec.virtualRouters[0].neighbors[1].peerAddress: 10.0.0.1 is already the neighbor "
            "spec.virtualRouters[0].neighbors[0]");

  // ... also across virtual routers: the speaker keys sessions by address.
  auto k = yaml(policy());
  auto second = k["spec"]["virtualRouters"][0];
  second["localASN"] = 64600;
  k["spec"]["virtualRouters"].push_back(second);
  EXPECT_EQ(parse_policy_object(k).error,
            "spec.virtualRouters[1].neighbors[0].peerAddress: 10.0.0.1 is already the neighbor "
            "spec.virtualRouters[0].neighbors[0]");
}

TEST(PolicyParse, ParsePolicyObjectNeverThrows) {
  auto r = parse_policy_object(nlohmann::json("not a policy"));
  EXPECT_FALSE(r.policy);
  EXPECT_EQ(r.name, "");
  EXPECT_EQ(r.error, "policy: expected a mapping, got string");
  auto ok = parse_policy_object(yaml(policy()));
  ASSERT_TRUE(ok.policy);
  EXPECT_EQ(ok.error, "");
  EXPECT_EQ(ok.name, "rack0");
}
