#include <gtest/gtest.h>

#include "operator/endpoint_gc.h"
#include "operator/identity_gc.h"

using namespace cpp;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {
kvstore::KeyValue kv(const std::string& k, const std::string& v, int64_t mod = 1) {
  kvstore::KeyValue e;
  e.key = k;
  e.value = v;
  e.mod_revision = mod;
  return e;
}
const std::string kId = kvstore::keys::kIdentityId;
const std::string kVal = kvstore::keys::kIdentityValue;
}  // namespace

TEST(IdentityGc, OnlyIdsUnreferencedForTheWholeGracePeriodAreCandidates) {
  op::IdentityGcTracker t(10s);
  auto t0 = std::chrono::steady_clock::now();
  std::vector<kvstore::KeyValue> ids{kv(kId + "256", "k8s:app=a;"), kv(kId + "257", "k8s:app=b;")};
  // 257's labels are referenced, but with another id: that does not keep 257.
  std::vector<kvstore::KeyValue> vals{kv(kVal + "k8s:app=a;/node-1", "256"), kv(kVal + "k8s:app=b;/node-1", "300")};
  EXPECT_TRUE(t.pass(ids, vals, t0).empty());
  EXPECT_TRUE(t.pass(ids, vals, t0 + 9s).empty());
  auto c = t.pass(ids, vals, t0 + 10s);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].id, 257u);
  EXPECT_EQ(c[0].mod_revision, 1);
}

TEST(IdentityGc, TouchingTheIdKeyRestartsTheClock) {
  op::IdentityGcTracker t(10s);
  auto t0 = std::chrono::steady_clock::now();
  t.pass({kv(kId + "256", "k8s:app=a;", 5)}, {}, t0);
  EXPECT_TRUE(t.pass({kv(kId + "256", "k8s:app=a;", 6)}, {}, t0 + 11s).empty());
  EXPECT_EQ(t.pass({kv(kId + "256", "k8s:app=a;", 6)}, {}, t0 + 21s).size(), 1u);
}

TEST(IdentityGc, ReferencedAgainForgetsTheId) {
  op::IdentityGcTracker t(0s);
  std::vector<kvstore::KeyValue> ids{kv(kId + "256", "k8s:app=a;")};
  EXPECT_EQ(t.tracked(), 0u);
  t.pass(ids, {}, std::chrono::steady_clock::now());
  EXPECT_EQ(t.tracked(), 1u);
  EXPECT_TRUE(t.pass(ids, {kv(kVal + "k8s:app=a;/n", "256")}, std::chrono::steady_clock::now()).empty());
  EXPECT_EQ(t.tracked(), 0u);
}

TEST(EndpointGc, StaleOnTwoPassesBeforeDeletion) {
  auto node = json{{"metadata", {{"name", "node-a"}}},
                   {"spec", {{"addresses", {{{"type", "InternalIP"}, {"ip", "192.0.2.11"}}}}}}};
  auto cep = [](const std::string& name, const std::string& n) {
    return json{{"metadata", {{"name", name}, {"namespace", "default"}}}, {"status", {{"networking", {{"node", n}}}}}};
  };
  std::vector<json> ceps{cep("live-by-ip", "192.0.2.11"), cep("live-by-name", "node-a"), cep("gone", "192.0.2.99"),
                         cep("unknown-node", "")};
  op::EndpointGc gc;
  EXPECT_TRUE(gc.pass(ceps, {node}).empty());
  EXPECT_EQ(gc.pass(ceps, {node}), std::vector<std::string>{"default/gone"});
  // A node that came back in between saves its endpoints.
  op::EndpointGc gc2;
  gc2.pass(ceps, {node});
  auto node2 = json{{"metadata", {{"name", "node-b"}}},
                    {"spec", {{"addresses", {{{"type", "InternalIP"}, {"ip", "192.0.2.99"}}}}}}};
  EXPECT_TRUE(gc2.pass(ceps, {node, node2}).empty());
}
