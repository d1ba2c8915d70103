#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "endpoint/manager.h"

namespace fs = std::filesystem;
using namespace cpp::endpoint;

namespace {

// Records what the manager asks of the kernel, and can be told to fail.
class FakeDatapath : public EndpointDatapath {
 public:
  void attach(const Endpoint& ep) override {
    if (fail_attach) throw std::runtime_error("attach failed");
    attached[ep.id] = ep;
  }
  void detach(const Endpoint& ep) override {
    attached.erase(ep.id);
    detached.insert(ep.id);
  }
  bool link_exists(const Endpoint& ep) override { return !gone_links.count(ep.host_ifname); }
  void prune(const std::vector<Endpoint>& live) override { pruned_with = live.size(); }

  bool fail_attach = false;
  std::map<uint16_t, Endpoint> attached;
  std::set<uint16_t> detached;
  std::set<std::string> gone_links;
  size_t pruned_with = 0;
};

Endpoint make_ep(const std::string& cid, const std::string& ip) {
  Endpoint e;
  e.container_id = cid;
  e.host_ifname = "lxc" + cid;
  e.host_ifindex = 7;
  e.ipv4 = cpp::IpAddr::parse(ip);
  return e;
}

class ManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cpp-ep-test-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  FakeDatapath dp_;
};

}  // namespace

TEST_F(ManagerTest, UpsertAssignsIdsAndIsIdempotentPerContainer) {
  Manager m(dir_, dp_);
  auto a = m.upsert(make_ep("a", "10.0.0.2"));
  auto b = m.upsert(make_ep("b", "10.0.0.3"));
  EXPECT_EQ(a.id, 1);
  EXPECT_EQ(b.id, 2);
  auto a2 = m.upsert(make_ep("a", "10.0.0.2"));
  EXPECT_EQ(a2.id, a.id);
  EXPECT_EQ(m.list().size(), 2u);
  EXPECT_EQ(m.get_by_container("b")->id, 2);
}

TEST_F(ManagerTest, FailedAttachLeavesNothing) {
  Manager m(dir_, dp_);
  dp_.fail_attach = true;
  EXPECT_THROW(m.upsert(make_ep("a", "10.0.0.2")), std::runtime_error);
  EXPECT_TRUE(m.list().empty());
  EXPECT_TRUE(fs::is_empty(dir_ / "endpoints"));
  dp_.fail_attach = false;
  EXPECT_EQ(m.upsert(make_ep("a", "10.0.0.2")).id, 1) << "the id of the failed attempt is free again";
}

TEST_F(ManagerTest, RemoveDetachesAndFreesId) {
  std::vector<std::pair<uint16_t, bool>> events;
  Manager m(dir_, dp_, [&](const Endpoint& e, bool deleted) { events.push_back({e.id, deleted}); });
  auto a = m.upsert(make_ep("a", "10.0.0.2"));
  EXPECT_TRUE(m.remove_by_container("a"));
  EXPECT_FALSE(m.remove_by_container("a"));
  EXPECT_TRUE(dp_.detached.count(a.id));
  EXPECT_FALSE(m.get(a.id));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_TRUE(events[1].second);
}

TEST_F(ManagerTest, RestoreKeepsIdsAndDropsEndpointsWhoseDeviceIsGone) {
  {
    Manager m(dir_, dp_);
    m.upsert(make_ep("a", "10.0.0.2"));
    m.upsert(make_ep("b", "10.0.0.3"));
    m.upsert(make_ep("c", "10.0.0.4"));
  }
  FakeDatapath dp2;
  dp2.gone_links.insert("lxcb");
  Manager m(dir_, dp2);
  auto res = m.restore();
  EXPECT_EQ(res.restored.size(), 2u);
  ASSERT_EQ(res.dropped.size(), 1u);
  EXPECT_EQ(res.dropped[0].container_id, "b");
  EXPECT_EQ(m.get_by_container("c")->id, 3);
  EXPECT_EQ(dp2.pruned_with, 2u);
  EXPECT_EQ(dp2.attached.size(), 2u);
  EXPECT_EQ(m.upsert(make_ep("d", "10.0.0.5")).id, 2) << "b's id is free again";
}

TEST_F(ManagerTest, CorruptRecordIsSkippedWithWarning) {
  fs::create_directories(dir_ / "endpoints");
  std::ofstream(dir_ / "endpoints" / "9.json") << "{not json";
  Manager m(dir_, dp_);
  auto res = m.restore();
  EXPECT_EQ(res.warnings.size(), 1u);
  EXPECT_TRUE(m.list().empty());
}

TEST(EndpointJson, RoundTripsAndRejectsBadFields) {
  auto e = make_ep("abc", "10.0.0.2");
  e.id = 12;
  e.ipv6 = cpp::IpAddr::parse("fd00::2");
  e.mac = *cpp::parse_mac("02:00:00:00:00:01");
  e.labels["app"] = "web";
  auto back = Endpoint::from_json(e.to_json());
  EXPECT_EQ(back.id, 12);
  EXPECT_EQ(back.ipv6, e.ipv6);
  EXPECT_EQ(back.labels.at("app"), "web");
  EXPECT_EQ(cpp::mac_str(back.mac), "02:00:00:00:00:01");

  auto j = e.to_json();
  j["mac"] = "zz";
  EXPECT_THROW(Endpoint::from_json(j), std::invalid_argument);
  j = e.to_json();
  j["addressing"]["ipv4"] = "fd00::1";
  EXPECT_THROW(Endpoint::from_json(j), std::invalid_argument);
  j = e.to_json();
  j.erase("container-id");
  EXPECT_THROW(Endpoint::from_json(j), std::invalid_argument);
  j = e.to_json();
  j["addressing"] = nlohmann::json::object();
  EXPECT_THROW(Endpoint::from_json(j), std::invalid_argument);
}

TEST(EndpointJson, CiliumEndpointHasUpstreamShape) {
  auto e = make_ep("abc", "10.0.0.2");
  e.id = 1605;
  e.k8s_namespace = "kube-system";
  e.k8s_pod_name = "coredns-1";
  auto cep = e.to_cilium_endpoint("192.0.2.11");
  EXPECT_EQ(cep["apiVersion"], "cilium.io/v2");
  EXPECT_EQ(cep["kind"], "CiliumEndpoint");
  EXPECT_EQ(cep["metadata"]["namespace"], "kube-system");
  EXPECT_EQ(cep["status"]["id"], 1605);
  EXPECT_EQ(cep["status"]["networking"]["addressing"][0]["ipv4"], "10.0.0.2");
  EXPECT_EQ(cep["status"]["networking"]["node"], "192.0.2.11");
  EXPECT_EQ(cep["status"]["external-identifiers"]["pod-name"], "kube-system/coredns-1");
}

TEST(EndpointJson, NamedPortsComeFromThePodsContainers) {
  auto pod = nlohmann::json::parse(R"({"spec": {"containers": [
      {"name": "coredns", "ports": [{"name": "dns", "containerPort": 53, "protocol": "UDP"},
                                    {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
                                    {"containerPort": 8080},
                                    {"name": "bad", "containerPort": "x"}]},
      {"name": "sidecar", "ports": [{"name": "metrics", "containerPort": 9153}]}]}})");
  EXPECT_EQ(named_ports_of_pod(pod), nlohmann::json::parse(R"([
      {"name": "dns", "port": 53, "protocol": "UDP"},
      {"name": "dns-tcp", "port": 53, "protocol": "TCP"},
      {"name": "metrics", "port": 9153, "protocol": "TCP"}])"));
  EXPECT_EQ(named_ports_of_pod(nlohmann::json::object()), nlohmann::json::array());
}
