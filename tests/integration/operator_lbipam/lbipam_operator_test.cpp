// LB IPAM in cilium-operator-generic against a real etcd: a LoadBalancer
// service gets IPs from a matching pool (one per family for dual-stack),
// serviceSelector is respected, an overlapping pool is marked and allocates
// nothing, a request outside every pool gets the condition, deleting a
// service frees its IP, a restarted operator keeps every assignment, and
// services with one sharing key share an IP until their ports collide.
// The operator runs as a real process, killed by PID.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "etcd_fixture.h"
#include "kvstore/etcd_client.h"
#include "service/lbipam.h"
#include "store/etcd_store.h"

using namespace cpp;
using namespace std::chrono_literals;
using kvtest::eventually;
using json = nlohmann::json;
namespace fs = std::filesystem;
namespace lbipam = service::lbipam;

namespace {

class LbIpamOperatorTest : public kvtest::SharedEtcdTest {
 protected:
  void SetUp() override {
    kvstore::EtcdOptions o;
    o.endpoints = cluster_->endpoints();
    o.request_timeout = 10s;
    o.dial_timeout = 2s;
    etcd_ = std::make_shared<kvstore::EtcdClient>(o);
    etcd_->del_prefix("cilium/");
    store_ = std::make_unique<store::EtcdStore>(etcd_);
    dir_ = fs::temp_directory_path() /
           ("cpp-lbipam-optest-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_ / "config");
    std::string cfg = "endpoints:\n";
    for (const auto& e : cluster_->endpoints()) cfg += "- " + e + "\n";
    std::ofstream(dir_ / "etcd.config") << cfg;
    config("kvstore", "etcd");
    config("kvstore-opt", R"({"etcd.config": ")" + (dir_ / "etcd.config").string() + R"("})");
    config("ipam", "kubernetes");  // no cluster-pool: only LB IPAM acts on the objects here
    config("enable-ipv4", "true");
    config("enable-ipv6", "true");
  }
  void TearDown() override {
    if (HasFailure()) std::cerr << "--- operator log ---\n" << log_text();
    kvtest::reap(pid_);
    fs::remove_all(dir_);
  }
  void config(const std::string& key, const std::string& value) { std::ofstream(dir_ / "config" / key) << value; }
  void start_operator() {
    std::vector<std::string> args{OPERATOR_BIN, "--config-dir", (dir_ / "config").string(), "--id", "op1",
                                  "--healthz-addr", "127.0.0.1:" + std::to_string(kvtest::free_port()),
                                  "--leader-lease-ttl", "3"};
    pid_ = kvtest::spawn(args, (dir_ / "operator.log").string());
  }
  std::string log_text() const {
    std::ifstream in(dir_ / "operator.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  void pool(const std::string& name, json blocks, json extra = json::object()) {
    json spec = {{"blocks", blocks}};
    if (extra.is_object()) spec.update(extra);
    store_->put({{"apiVersion", "cilium.io/v2alpha1"},
                 {"kind", "CiliumLoadBalancerIPPool"},
                 {"metadata", {{"name", name}}},
                 {"spec", spec}});
  }
  void service(const std::string& name, json labels = json::object(), json spec_extra = json::object(),
               json annotations = json::object()) {
    json spec = {{"type", "LoadBalancer"},
                 {"clusterIP", "10.96.1." + std::to_string(++services_)},
                 {"ports", {{{"port", 80}, {"protocol", "TCP"}}}}};
    if (spec_extra.is_object()) spec.update(spec_extra);
    json md = {{"name", name}, {"namespace", "default"}};
    if (labels.is_object() && !labels.empty()) md["labels"] = labels;
    if (annotations.is_object() && !annotations.empty()) md["annotations"] = annotations;
    store_->put({{"apiVersion", "v1"}, {"kind", "Service"}, {"metadata", md}, {"spec", spec}});
  }
  std::vector<std::string> ips(const std::string& svc) {
    std::vector<std::string> out;
    auto s = store_->get("Service", "default", svc);
    if (s && s->contains("status") && (*s)["status"].contains("loadBalancer"))
      for (const auto& e : (*s)["status"]["loadBalancer"].value("ingress", json::array())) out.push_back(e["ip"]);
    return out;
  }
  json cond(const std::optional<json>& obj, const char* type) {
    if (!obj) return json();
    json conds = obj->value("status", json::object()).value("conditions", json::array());
    for (const auto& c : conds)
      if (c.value("type", "") == type) return c;
    return json();
  }
  json svc_cond(const std::string& svc) {
    return cond(store_->get("Service", "default", svc), lbipam::kRequestSatisfied);
  }
  json pool_cond(const std::string& pool, const char* type) {
    return cond(store_->get("CiliumLoadBalancerIPPool", "", pool), type);
  }

  std::shared_ptr<kvstore::EtcdClient> etcd_;
  std::unique_ptr<store::EtcdStore> store_;
  fs::path dir_;
  pid_t pid_ = -1;
  int services_ = 0;
};

bool in_prefix(const std::string& ip, const std::string& prefix) { return ip.rfind(prefix, 0) == 0; }

TEST_F(LbIpamOperatorTest, AssignsFromMatchingPoolsAndReportsProblems) {
  start_operator();
  pool("blue", {{{"cidr", "198.51.100.0/24"}}, {{"cidr", "2001:db8:10::/120"}}},
       {{"serviceSelector", {{"matchLabels", {{"color", "blue"}}}}}});
  pool("red", {{{"start", "203.0.113.10"}, {"stop", "203.0.113.20"}}},
       {{"serviceSelector", {{"matchLabels", {{"color", "red"}}}}}});
  service("blue-v4", {{"color", "blue"}});
  service("blue-ds", {{"color", "blue"}}, {{"ipFamilyPolicy", "RequireDualStack"}, {"ipFamilies", {"IPv4", "IPv6"}}});
  service("red-v4", {{"color", "red"}});
  service("green", {{"color", "green"}});
  service("foreign", {{"color", "blue"}}, {}, {{"lbipam.cilium.io/ips", "192.0.2.55"}});

  ASSERT_TRUE(eventually([&] { return ips("blue-v4").size() == 1; }, 30s));
  EXPECT_TRUE(in_prefix(ips("blue-v4")[0], "198.51.100.")) << ips("blue-v4")[0];
  EXPECT_EQ(svc_cond("blue-v4")["status"], "True");

  ASSERT_TRUE(eventually([&] { return ips("blue-ds").size() == 2; }, 30s));
  auto ds = ips("blue-ds");
  int v4 = 0, v6 = 0;
  for (const auto& ip : ds) {
    if (in_prefix(ip, "198.51.100.")) v4++;
    if (in_prefix(ip, "2001:db8:10::")) v6++;
  }
  EXPECT_EQ(v4, 1) << ds[0] << " " << ds[1];
  EXPECT_EQ(v6, 1) << ds[0] << " " << ds[1];
  EXPECT_NE(ds[0], ips("blue-v4")[0]);

  ASSERT_TRUE(eventually([&] { return ips("red-v4").size() == 1; }, 30s));
  EXPECT_TRUE(in_prefix(ips("red-v4")[0], "203.0.113.")) << ips("red-v4")[0];

  // No pool selects green; the foreign request lies outside every pool.
  ASSERT_TRUE(eventually([&] { return svc_cond("green").contains("reason"); }, 30s));
  EXPECT_EQ(svc_cond("green")["status"], "False");
  EXPECT_EQ(svc_cond("green")["reason"], "no_pool");
  EXPECT_TRUE(ips("green").empty());
  ASSERT_TRUE(eventually([&] { return svc_cond("foreign").contains("reason"); }, 30s));
  EXPECT_EQ(svc_cond("foreign")["status"], "False");
  EXPECT_EQ(svc_cond("foreign")["reason"], "no_pool");
  EXPECT_TRUE(ips("foreign").empty());

  // A second pool overlapping the first is marked and allocates nothing.
  pool("zz-overlap", {{{"cidr", "198.51.100.128/25"}}}, {{"serviceSelector", {{"matchLabels", {{"color", "pink"}}}}}});
  service("pink", {{"color", "pink"}});
  ASSERT_TRUE(eventually([&] { return pool_cond("zz-overlap", lbipam::kPoolConflict)["status"] == "True"; }, 30s));
  EXPECT_EQ(pool_cond("zz-overlap", lbipam::kPoolConflict)["reason"], "cidr_overlap");
  EXPECT_EQ(pool_cond("blue", lbipam::kPoolConflict)["status"], "False");
  ASSERT_TRUE(eventually([&] { return svc_cond("pink").contains("reason"); }, 30s));
  EXPECT_EQ(svc_cond("pink")["status"], "False");
  EXPECT_TRUE(ips("pink").empty());

  // A malformed pool gets a condition; the rest keeps working.
  pool("broken", {{{"cidr", "198.51.100.0/33"}}});
  ASSERT_TRUE(eventually([&] { return pool_cond("broken", lbipam::kPoolConflict)["status"] == "True"; }, 30s));
  EXPECT_EQ(pool_cond("broken", lbipam::kPoolConflict)["reason"], "invalid_spec");
  service("blue-later", {{"color", "blue"}});
  ASSERT_TRUE(eventually([&] { return ips("blue-later").size() == 1; }, 30s));
}

TEST_F(LbIpamOperatorTest, DeletingAServiceFreesItsIp) {
  start_operator();
  pool("tiny", {{{"start", "203.0.113.7"}, {"stop", "203.0.113.7"}}});
  service("first");
  ASSERT_TRUE(eventually([&] { return ips("first") == std::vector<std::string>{"203.0.113.7"}; }, 30s));
  service("second");
  ASSERT_TRUE(eventually([&] { return svc_cond("second")["reason"] == "out_of_ips"; }, 30s));
  EXPECT_TRUE(ips("second").empty());
  ASSERT_TRUE(store_->remove("Service", "default", "first"));
  ASSERT_TRUE(eventually([&] { return ips("second") == std::vector<std::string>{"203.0.113.7"}; }, 30s));
  EXPECT_EQ(svc_cond("second")["status"], "True");
  EXPECT_TRUE(eventually([&] { return pool_cond("tiny", lbipam::kIPsAvailable)["message"] == "0"; }, 30s));
}

TEST_F(LbIpamOperatorTest, RestartedOperatorKeepsAssignments) {
  start_operator();
  pool("blue", {{{"cidr", "198.51.100.0/24"}}, {{"cidr", "2001:db8:10::/120"}}});
  for (int i = 0; i < 6; ++i)
    service("s" + std::to_string(i), {}, i % 2 ? json{{"ipFamilyPolicy", "PreferDualStack"}} : json::object());
  std::map<std::string, std::vector<std::string>> before;
  ASSERT_TRUE(eventually(
      [&] {
        for (int i = 0; i < 6; ++i)
          if (ips("s" + std::to_string(i)).size() != (i % 2 ? 2u : 1u)) return false;
        return true;
      },
      30s));
  for (int i = 0; i < 6; ++i) before["s" + std::to_string(i)] = ips("s" + std::to_string(i));
  std::map<std::string, std::string> rv;
  for (int i = 0; i < 6; ++i)
    rv["s" + std::to_string(i)] = (*store_->get("Service", "default", "s" + std::to_string(i)))["metadata"]["resourceVersion"];

  kvtest::reap(pid_);  // SIGKILL: no goodbye
  // While it is down: one service goes, one arrives.
  store_->remove("Service", "default", "s0");
  service("newcomer");
  start_operator();
  ASSERT_TRUE(eventually([&] { return ips("newcomer").size() == 1; }, 30s));
  for (int i = 1; i < 6; ++i) {
    std::string k = "s" + std::to_string(i);
    EXPECT_EQ(ips(k), before[k]) << k;
    // Not even rewritten: the restarted operator found nothing to change.
    EXPECT_EQ((*store_->get("Service", "default", k))["metadata"]["resourceVersion"], rv[k]) << k;
  }
  for (int i = 1; i < 6; ++i) EXPECT_NE(ips("newcomer")[0], before["s" + std::to_string(i)][0]);
}

TEST_F(LbIpamOperatorTest, SharingKeyServicesShareAnIp) {
  start_operator();
  pool("shared", {{{"cidr", "198.51.100.0/24"}}});
  json key = {{"lbipam.cilium.io/sharing-key", "web"}};
  service("http", {}, {{"ports", {{{"port", 80}, {"protocol", "TCP"}}}}}, key);
  service("https", {}, {{"ports", {{{"port", 443}, {"protocol", "TCP"}}}}}, key);
  service("http-too", {}, {{"ports", {{{"port", 80}, {"protocol", "TCP"}}}}}, key);
  ASSERT_TRUE(eventually(
      [&] { return ips("http").size() == 1 && ips("https").size() == 1 && ips("http-too").size() == 1; }, 30s));
  EXPECT_EQ(ips("https"), ips("http"));
  EXPECT_NE(ips("http-too"), ips("http"));  // port 80 collides: another IP
  auto shared = ips("http");
  EXPECT_TRUE(eventually([&] { return pool_cond("shared", lbipam::kIPsUsed)["message"] == "2"; }, 30s));

  // A fourth asks for the shared IP with a colliding port: refused, by name.
  service("asks", {}, {{"ports", {{{"port", 443}, {"protocol", "TCP"}}}}},
          {{"lbipam.cilium.io/sharing-key", "web"}, {"lbipam.cilium.io/ips", shared[0]}});
  ASSERT_TRUE(eventually([&] { return svc_cond("asks").contains("reason"); }, 30s));
  EXPECT_EQ(svc_cond("asks")["reason"], "already_allocated_incompatible_service");
  EXPECT_TRUE(ips("asks").empty());

  // The IP stays while one sharer remains; once the last one goes, a
  // keyless service asking for it gets it.
  ASSERT_TRUE(store_->remove("Service", "default", "asks"));
  ASSERT_TRUE(store_->remove("Service", "default", "http"));
  service("later", {}, {}, {{"lbipam.cilium.io/ips", shared[0]}});
  ASSERT_TRUE(eventually([&] { return svc_cond("later")["reason"] == "already_allocated"; }, 30s));
  EXPECT_EQ(ips("https"), shared);
  ASSERT_TRUE(store_->remove("Service", "default", "https"));
  ASSERT_TRUE(eventually([&] { return ips("later") == shared; }, 30s));
  EXPECT_EQ(svc_cond("later")["status"], "True");
}

}  // namespace
