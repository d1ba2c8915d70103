#include <gtest/gtest.h>

#include "bgp/policy_status.h"

using namespace cpp;
using namespace cpp::bgp;
using nlohmann::json;

namespace {

PeerStatus peer(const std::string& addr, uint32_t asn, SessionState st, const std::string& err = "") {
  PeerStatus p;
  p.local_asn = 65001;
  p.peer_address = *IpAddr::parse(addr);
  p.peer_asn = asn;
  p.state = st;
  p.last_error = err;
  return p;
}

json policy_object() {
  return {{"apiVersion", "cilium.io/v2alpha1"}, {"kind", "CiliumBGPPeeringPolicy"}, {"metadata", {{"name", "p"}}},
          {"spec", {{"virtualRouters", json::array()}}}};
}

}  // namespace

TEST(PolicyStatus, NotSelectedHasNoEntry) {
  PolicyStatus s{"p", PolicyState::NotSelected, {}};
  EXPECT_FALSE(node_status_entry("node1", s, {peer("192.0.2.1", 64512, SessionState::Established)}));
}

TEST(PolicyStatus, AppliedListsSessionsSortedWithTheirLastError) {
  PolicyStatus s{"p", PolicyState::Applied, {"spec.virtualRouters[0].neighbors[1]: secret bgp-md5 not found"}};
  auto e = node_status_entry("node1", s,
                             {peer("192.0.2.253", 64599, SessionState::Active,
                                   "sent NOTIFICATION OPEN Message Error/Bad Peer AS"),
                              peer("192.0.2.250", 64512, SessionState::Established)});
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["name"], "node1");
  EXPECT_EQ((*e)["state"], "Applied");
  EXPECT_EQ((*e)["errors"][0], "spec.virtualRouters[0].neighbors[1]: secret bgp-md5 not found");
  ASSERT_EQ((*e)["peers"].size(), 2u);
  EXPECT_EQ((*e)["peers"][0]["peerAddress"], "192.0.2.250");
  EXPECT_EQ((*e)["peers"][0]["sessionState"], "established");
  EXPECT_FALSE((*e)["peers"][0].contains("lastError"));
  EXPECT_EQ((*e)["peers"][1]["peerASN"], 64599);
  EXPECT_EQ((*e)["peers"][1]["localASN"], 65001);
  EXPECT_EQ((*e)["peers"][1]["lastError"], "sent NOTIFICATION OPEN Message Error/Bad Peer AS");
}

TEST(PolicyStatus, InvalidCarriesTheErrorAndNoSessions) {
  PolicyStatus s{"p", PolicyState::Invalid, {"spec.virtualRouters[0].neighbors[0].holdTimeSeconds: 2 is below 3"}};
  auto e = node_status_entry("node2", s, {peer("192.0.2.250", 64512, SessionState::Established)});
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["state"], "Invalid");
  EXPECT_EQ((*e)["errors"].size(), 1u);
  EXPECT_FALSE(e->contains("peers"));  // the sessions belong to another policy
}

TEST(PolicyStatus, EachNodeOwnsItsEntry) {
  json p = policy_object();
  EXPECT_TRUE(set_node_status(p, "node2", json{{"name", "node2"}, {"state", "Applied"}}));
  EXPECT_TRUE(set_node_status(p, "node1", json{{"name", "node1"}, {"state", "Conflict"}}));
  ASSERT_EQ(p["status"]["nodes"].size(), 2u);
  EXPECT_EQ(p["status"]["nodes"][0]["name"], "node1");  // sorted by name
  EXPECT_EQ(p["status"]["nodes"][1]["state"], "Applied");
  EXPECT_FALSE(set_node_status(p, "node1", json{{"name", "node1"}, {"state", "Conflict"}}));  // no change
  EXPECT_TRUE(set_node_status(p, "node1", json{{"name", "node1"}, {"state", "Applied"}}));
  EXPECT_EQ(p["status"]["nodes"][0]["state"], "Applied");
  EXPECT_EQ(p["status"]["nodes"][1]["name"], "node2");  // untouched
  EXPECT_TRUE(set_node_status(p, "node2", std::nullopt));
  ASSERT_EQ(p["status"]["nodes"].size(), 1u);
  EXPECT_TRUE(set_node_status(p, "node1", std::nullopt));
  EXPECT_FALSE(p.contains("status"));  // nothing left to say
  EXPECT_FALSE(set_node_status(p, "node1", std::nullopt));
}

TEST(PolicyStatus, OtherStatusFieldsAndMalformedEntriesSurvive) {
  json p = policy_object();
  p["status"] = {{"note", "kept"}, {"nodes", json::array({"not-an-object"})}};
  EXPECT_TRUE(set_node_status(p, "node1", json{{"name", "node1"}, {"state", "Applied"}}));
  EXPECT_EQ(p["status"]["note"], "kept");
  EXPECT_EQ(p["status"]["nodes"].size(), 2u);
}
