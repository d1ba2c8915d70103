// LbIpamController against a real DirectoryStore in a temp dir: what it
// writes on Services and CiliumLoadBalancerIPPools, that it writes nothing
// when nothing changed, and that a new controller keeps assignments.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "operator/lbipam_conditions.h"
#include "operator/lbipam_controller.h"
#include "service/lbipam.h"

using namespace cpp;
using namespace std::chrono_literals;
using json = nlohmann::json;
namespace fs = std::filesystem;
namespace lbipam = service::lbipam;

namespace {

class LbIpamControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cpp-lbipam-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    store_ = std::make_unique<store::DirectoryStore>(dir_.string(), 20ms);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Pools get a creationTimestamp in name order, so "older" is explicit.
  void pool(const std::string& name, json blocks, json extra = json::object()) {
    json spec = {{"blocks", blocks}};
    if (extra.is_object()) spec.update(extra);
    store_->put({{"apiVersion", "cilium.io/v2alpha1"},
                 {"kind", "CiliumLoadBalancerIPPool"},
                 {"metadata", {{"name", name}, {"creationTimestamp", "2026-01-01T00:00:0" + std::to_string(++pools_) + "Z"}}},
                 {"spec", spec}});
  }
  json service(const std::string& name, json labels = json::object(), json spec_extra = json::object(),
               json annotations = json::object()) {
    json spec = {{"type", "LoadBalancer"},
                 {"clusterIP", "10.96.0." + std::to_string(++services_)},
                 {"ports", {{{"port", 80}, {"protocol", "TCP"}}}}};
    if (spec_extra.is_object()) spec.update(spec_extra);
    json md = {{"name", name}, {"namespace", "default"}};
    if (labels.is_object() && !labels.empty()) md["labels"] = labels;
    if (annotations.is_object() && !annotations.empty()) md["annotations"] = annotations;
    json obj = {{"apiVersion", "v1"}, {"kind", "Service"}, {"metadata", md}, {"spec", spec}};
    store_->put(obj);
    return obj;
  }
  json get_svc(const std::string& name) { return store_->get("Service", "default", name).value_or(json()); }
  json get_pool(const std::string& name) {
    return store_->get("CiliumLoadBalancerIPPool", "", name).value_or(json());
  }
  std::vector<std::string> ips(const std::string& svc) {
    std::vector<std::string> out;
    json s = get_svc(svc);
    if (s.contains("status") && s["status"].contains("loadBalancer"))
      for (const auto& e : s["status"]["loadBalancer"].value("ingress", json::array())) out.push_back(e["ip"]);
    return out;
  }
  json cond(const json& obj, const char* type) {
    json conds = obj.value("status", json::object()).value("conditions", json());
    const json* c = op::find_condition(conds, type);
    return c ? *c : json();
  }
  json svc_cond(const std::string& svc) { return cond(get_svc(svc), lbipam::kRequestSatisfied); }
  op::LbIpamStats pass(bool v4 = true, bool v6 = true) {
    op::LbIpamController c(*store_, v4, v6);
    return c.reconcile();
  }

  fs::path dir_;
  std::unique_ptr<store::DirectoryStore> store_;
  int pools_ = 0, services_ = 0;
};

TEST_F(LbIpamControllerTest, LoadBalancerServiceGetsAnIpAndTheConditionSaysSo) {
  pool("blue", {{{"cidr", "198.51.100.0/30"}}, {{"cidr", "2001:db8:10::/126"}}});
  service("web");
  service("plain", {}, {{"type", "ClusterIP"}});
  auto st = pass();
  EXPECT_EQ(st.services, 1u);
  // /30 without first/last: .1 or .2.
  auto got = ips("web");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0] == "198.51.100.1" || got[0] == "198.51.100.2") << got[0];
  EXPECT_EQ(svc_cond("web")["status"], "True");
  EXPECT_EQ(svc_cond("web")["reason"], "satisfied");
  EXPECT_TRUE(ips("plain").empty());
  EXPECT_FALSE(get_svc("plain").contains("status"));  // not ours: untouched
  json p = get_pool("blue");
  EXPECT_EQ(cond(p, lbipam::kPoolConflict)["status"], "False");
  EXPECT_EQ(cond(p, lbipam::kIPsUsed)["message"], "1");
}

TEST_F(LbIpamControllerTest, DualStackServiceGetsOneAddressPerFamily) {
  pool("blue", {{{"cidr", "198.51.100.0/24"}}, {{"cidr", "2001:db8:10::/120"}}});
  service("ds", {}, {{"ipFamilyPolicy", "RequireDualStack"}, {"ipFamilies", {"IPv4", "IPv6"}}});
  pass();
  auto got = ips("ds");
  ASSERT_EQ(got.size(), 2u);
  int v4 = 0, v6 = 0;
  for (const auto& ip : got) (ip.find(':') == std::string::npos ? v4 : v6)++;
  EXPECT_EQ(v4, 1);
  EXPECT_EQ(v6, 1);
  EXPECT_EQ(svc_cond("ds")["status"], "True");
}

TEST_F(LbIpamControllerTest, ServiceSelectorDecidesWhichPoolServes) {
  pool("red", {{{"cidr", "198.51.100.0/24"}}}, {{"serviceSelector", {{"matchLabels", {{"color", "red"}}}}}});
  service("red-svc", {{"color", "red"}});
  service("blue-svc", {{"color", "blue"}});
  pass();
  ASSERT_EQ(ips("red-svc").size(), 1u);
  EXPECT_EQ(ips("red-svc")[0].rfind("198.51.100.", 0), 0u);
  EXPECT_TRUE(ips("blue-svc").empty());
  EXPECT_EQ(svc_cond("blue-svc")["status"], "False");
  EXPECT_EQ(svc_cond("blue-svc")["reason"], "no_pool");
  // A pool for blue appears: the blue service is served on the next pass.
  pool("blue", {{{"cidr", "203.0.113.0/24"}}}, {{"serviceSelector", {{"matchLabels", {{"color", "blue"}}}}}});
  pass();
  ASSERT_EQ(ips("blue-svc").size(), 1u);
  EXPECT_EQ(ips("blue-svc")[0].rfind("203.0.113.", 0), 0u);
  EXPECT_EQ(svc_cond("blue-svc")["status"], "True");
}

TEST_F(LbIpamControllerTest, OverlappingPoolIsMarkedAndAllocatesNothing) {
  pool("first", {{{"cidr", "198.51.100.0/24"}}}, {{"serviceSelector", {{"matchLabels", {{"pool", "first"}}}}}});
  pool("second", {{{"cidr", "198.51.100.128/25"}}}, {{"serviceSelector", {{"matchLabels", {{"pool", "second"}}}}}});
  service("a", {{"pool", "first"}});
  service("b", {{"pool", "second"}});
  pass();
  json second = get_pool("second");
  EXPECT_EQ(cond(second, lbipam::kPoolConflict)["status"], "True");
  EXPECT_EQ(cond(second, lbipam::kPoolConflict)["reason"], "cidr_overlap");
  EXPECT_NE(cond(second, lbipam::kPoolConflict)["message"].get<std::string>().find("first"), std::string::npos);
  EXPECT_EQ(cond(get_pool("first"), lbipam::kPoolConflict)["status"], "False");
  EXPECT_EQ(ips("a").size(), 1u);  // the older pool keeps working
  EXPECT_TRUE(ips("b").empty());
  EXPECT_EQ(svc_cond("b")["status"], "False");
}

TEST_F(LbIpamControllerTest, MalformedPoolGetsAConditionAndTheRestKeepsWorking) {
  pool("good", {{{"cidr", "198.51.100.0/24"}}});
  pool("bad", {{{"cidr", "198.51.100.300/24"}}});
  pool("backwards", {{{"start", "203.0.113.9"}, {"stop", "203.0.113.1"}}});
  service("a");
  auto st = pass();
  EXPECT_EQ(st.invalid_pools, 2u);
  for (const char* name : {"bad", "backwards"}) {
    json c = cond(get_pool(name), lbipam::kPoolConflict);
    EXPECT_EQ(c["status"], "True") << name;
    EXPECT_EQ(c["reason"], "invalid_spec") << name;
    EXPECT_NE(c["message"].get<std::string>().find("spec.blocks[0]"), std::string::npos) << c.dump();
  }
  ASSERT_EQ(ips("a").size(), 1u);
  EXPECT_EQ(ips("a")[0].rfind("198.51.100.", 0), 0u);
}

TEST_F(LbIpamControllerTest, RequestOutsideEveryPoolGetsAConditionAndNoIp) {
  pool("blue", {{{"cidr", "198.51.100.0/24"}}});
  service("wants-foreign", {}, {}, {{"lbipam.cilium.io/ips", "192.0.2.77"}});
  service("wants-inside", {}, {}, {{"lbipam.cilium.io/ips", "198.51.100.77"}});
  service("legacy-field", {}, {{"loadBalancerIP", "198.51.100.78"}});
  pass();
  EXPECT_TRUE(ips("wants-foreign").empty());
  EXPECT_EQ(svc_cond("wants-foreign")["status"], "False");
  EXPECT_EQ(svc_cond("wants-foreign")["reason"], "no_pool");
  EXPECT_NE(svc_cond("wants-foreign")["message"].get<std::string>().find("192.0.2.77"), std::string::npos);
  EXPECT_EQ(ips("wants-inside"), std::vector<std::string>{"198.51.100.77"});
  EXPECT_EQ(ips("legacy-field"), std::vector<std::string>{"198.51.100.78"});
}

TEST_F(LbIpamControllerTest, DeletingTheServiceFreesItsIp) {
  pool("one", {{{"start", "198.51.100.7"}, {"stop", "198.51.100.7"}}});
  service("first");
  pass();
  ASSERT_EQ(ips("first"), std::vector<std::string>{"198.51.100.7"});
  service("second");
  pass();
  EXPECT_TRUE(ips("second").empty());
  EXPECT_EQ(svc_cond("second")["reason"], "out_of_ips");
  EXPECT_EQ(cond(get_pool("one"), lbipam::kIPsAvailable)["message"], "0");
  ASSERT_TRUE(store_->remove("Service", "default", "first"));
  pass();
  EXPECT_EQ(ips("second"), std::vector<std::string>{"198.51.100.7"});
  EXPECT_EQ(svc_cond("second")["status"], "True");
}

TEST_F(LbIpamControllerTest, ServiceThatStopsBeingLoadBalancerLosesItsIpAndCondition) {
  pool("one", {{{"cidr", "198.51.100.0/24"}}});
  json svc = service("flip");
  pass();
  ASSERT_EQ(ips("flip").size(), 1u);
  json now = get_svc("flip");
  now["spec"]["type"] = "ClusterIP";
  store_->put(now);
  pass();
  EXPECT_TRUE(ips("flip").empty());
  EXPECT_TRUE(svc_cond("flip").is_null());
  EXPECT_EQ(cond(get_pool("one"), lbipam::kIPsUsed)["message"], "0");
}

TEST_F(LbIpamControllerTest, SecondPassWritesNothing) {
  pool("blue", {{{"cidr", "198.51.100.0/24"}}});
  pool("bad", {{{"cidr", "nonsense"}}});
  service("a");
  service("b", {}, {}, {{"lbipam.cilium.io/ips", "192.0.2.1"}});
  auto first = pass();
  EXPECT_EQ(first.services_written, 2u);
  EXPECT_EQ(first.pools_written, 2u);
  std::string rv_a = get_svc("a")["metadata"]["resourceVersion"];
  std::string rv_pool = get_pool("blue")["metadata"]["resourceVersion"];
  auto second = pass();
  EXPECT_EQ(second.services_written, 0u);
  EXPECT_EQ(second.pools_written, 0u);
  EXPECT_EQ(get_svc("a")["metadata"]["resourceVersion"], rv_a);
  EXPECT_EQ(get_pool("blue")["metadata"]["resourceVersion"], rv_pool);
}

TEST_F(LbIpamControllerTest, ANewControllerKeepsAssignments) {
  pool("blue", {{{"cidr", "198.51.100.0/24"}}});
  for (int i = 0; i < 5; ++i) service("s" + std::to_string(i));
  pass();
  std::map<std::string, std::vector<std::string>> before;
  for (int i = 0; i < 5; ++i) before["s" + std::to_string(i)] = ips("s" + std::to_string(i));
  // Delete one in the middle, add a newcomer; the others keep their IPs.
  store_->remove("Service", "default", "s2");
  service("newcomer");
  auto st = pass();
  for (int i = 0; i < 5; ++i) {
    if (i == 2) continue;
    EXPECT_EQ(ips("s" + std::to_string(i)), before["s" + std::to_string(i)]) << i;
  }
  ASSERT_EQ(ips("newcomer").size(), 1u);
  for (const auto& [k, v] : before) {
    if (k == "s2") continue;
    EXPECT_NE(ips("newcomer"), v) << k;
  }
  EXPECT_EQ(st.services_written, 1u);
}

TEST_F(LbIpamControllerTest, RunningControllerFollowsTheStore) {
  op::LbIpamController c(*store_, true, false, 1h);
  c.start();
  pool("blue", {{{"cidr", "198.51.100.0/24"}}});
  service("live");
  auto until = std::chrono::steady_clock::now() + 20s;
  while (ips("live").empty() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(20ms);
  ASSERT_EQ(ips("live").size(), 1u);
  store_->remove("CiliumLoadBalancerIPPool", "", "blue");
  service("later");
  until = std::chrono::steady_clock::now() + 20s;
  // A pass already under way may have listed the pool before it went: wait
  // for the pass the removal triggers.
  while (svc_cond("later")["reason"] != "no_pool" && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(20ms);
  EXPECT_EQ(svc_cond("later")["reason"], "no_pool");
  EXPECT_TRUE(ips("later").empty());
  c.stop();
}

TEST_F(LbIpamControllerTest, SharingKeyServicesShareAnIpUnlessTheirPortsCollide) {
  pool("blue", {{{"cidr", "198.51.100.0/24"}}});
  json key = {{"lbipam.cilium.io/sharing-key", "web"}};
  service("a", {}, {{"ports", {{{"port", 80}, {"protocol", "TCP"}}}}}, key);
  service("b", {}, {{"ports", {{{"port", 81}, {"protocol", "TCP"}}}}}, key);
  service("c", {}, {{"ports", {{{"port", 80}, {"protocol", "UDP"}}}}}, key);  // 1.15: the number collides
  service("d", {}, {{"ports", {{{"port", 82}, {"protocol", "TCP"}}}}}, {{"io.cilium/lb-ipam-sharing-key", "web"}});
  pass();
  ASSERT_EQ(ips("a").size(), 1u);
  EXPECT_EQ(ips("b"), ips("a"));
  EXPECT_EQ(ips("d"), ips("a"));  // the older annotation name works too
  ASSERT_EQ(ips("c").size(), 1u);
  EXPECT_NE(ips("c"), ips("a"));
  for (const char* s : {"a", "b", "c", "d"}) EXPECT_EQ(svc_cond(s)["status"], "True") << s;
  EXPECT_EQ(cond(get_pool("blue"), lbipam::kIPsUsed)["message"], "2");
  // Asking for the shared IP with a colliding port: the condition says why.
  service("e", {}, {{"ports", {{{"port", 81}, {"protocol", "TCP"}}}}},
          {{"lbipam.cilium.io/sharing-key", "web"}, {"lbipam.cilium.io/ips", ips("a")[0]}});
  pass();
  EXPECT_TRUE(ips("e").empty());
  EXPECT_EQ(svc_cond("e")["reason"], "already_allocated_incompatible_service");
  EXPECT_NE(svc_cond("e")["message"].get<std::string>().find("same port 81"), std::string::npos);
  // A new controller reads the shared assignments back and writes nothing.
  EXPECT_EQ(pass().services_written, 0u);
}

TEST_F(LbIpamControllerTest, TheSharerThatChangesIsTheOneThatMoves) {
  pool("blue", {{{"cidr", "198.51.100.0/24"}}});
  json key = {{"lbipam.cilium.io/sharing-key", "web"}};
  service("a", {}, {{"ports", {{{"port", 80}, {"protocol", "TCP"}}}}}, key);
  service("b", {}, {{"ports", {{{"port", 81}, {"protocol", "TCP"}}}}}, key);
  op::LbIpamController c(*store_, true, false);
  c.reconcile();
  auto shared = ips("b");
  ASSERT_EQ(ips("a"), shared);
  // a, first by name, takes b's port: a moves, b stays.
  json a = get_svc("a");
  a["spec"]["ports"][0]["port"] = 81;
  store_->put(a);
  c.reconcile();
  EXPECT_EQ(ips("b"), shared);
  ASSERT_EQ(ips("a").size(), 1u);
  EXPECT_NE(ips("a"), shared);
  // Back to 80 and joined again under a new key alone: a changed key moves a only.
  a = get_svc("a");
  a["spec"]["ports"][0]["port"] = 80;
  store_->put(a);
  json b = get_svc("b");
  store_->put(b);
  c.reconcile();
  a = get_svc("a");
  a["metadata"]["annotations"]["lbipam.cilium.io/sharing-key"] = "other";
  a["status"]["loadBalancer"]["ingress"] = {{{"ip", shared[0]}}};  // as if it still held the shared IP
  store_->put(a);
  c.reconcile();
  EXPECT_EQ(ips("b"), shared);
  ASSERT_EQ(ips("a").size(), 1u);
  EXPECT_NE(ips("a"), shared);
}

TEST_F(LbIpamControllerTest, BadInputKeepsTheAssignment) {
  pool("blue", {{{"cidr", "198.51.100.0/24"}}});
  service("a");
  pass();
  auto held = ips("a");
  ASSERT_EQ(held.size(), 1u);
  // The spec stops parsing: the IP stays, the condition says why.
  json a = get_svc("a");
  a["spec"]["ports"][0]["port"] = 70000;
  store_->put(a);
  service("grabber", {}, {}, {{"lbipam.cilium.io/ips", held[0]}});
  pass();
  EXPECT_EQ(ips("a"), held);
  EXPECT_EQ(svc_cond("a")["status"], "False");
  EXPECT_EQ(svc_cond("a")["reason"], "invalid_request");
  EXPECT_NE(svc_cond("a")["message"].get<std::string>().find("spec.ports[0].port"), std::string::npos)
      << svc_cond("a").dump();
  EXPECT_TRUE(ips("grabber").empty());
  EXPECT_EQ(svc_cond("grabber")["reason"], "already_allocated");
  // A malformed requested IP: the same.
  a = get_svc("a");
  a["spec"]["ports"][0]["port"] = 80;
  a["metadata"]["annotations"] = {{"lbipam.cilium.io/ips", "198.51.100.x"}};
  store_->put(a);
  pass();
  EXPECT_EQ(ips("a"), held);
  EXPECT_EQ(svc_cond("a")["reason"], "invalid_request");
  // Fixed: back to normal, same IP.
  a = get_svc("a");
  a["metadata"].erase("annotations");
  store_->put(a);
  pass();
  EXPECT_EQ(ips("a"), held);
  EXPECT_EQ(svc_cond("a")["status"], "True");
}

}  // namespace
