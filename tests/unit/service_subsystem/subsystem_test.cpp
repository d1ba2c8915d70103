// ServiceSubsystem over a real DirectoryStore and in-memory maps: services
// and slices become frontends, conflicts leave only the loser's frontend
// out, API services are validated before anything changes, and a restarted
// subsystem keeps every id.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "agent/service_subsystem.h"
#include "fake_lb_maps.h"

namespace cpp::agent {
namespace {

using nlohmann::json;
using testing::FakeLbMaps;

json svc(const std::string& name, const std::string& ip, const std::string& created = "2026-01-01T00:00:00Z") {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", {{"name", name}, {"namespace", "default"}, {"creationTimestamp", created}}},
          {"spec",
           {{"type", "ClusterIP"},
            {"clusterIP", ip},
            {"clusterIPs", {ip}},
            {"ports", {{{"name", "http"}, {"port", 80}, {"protocol", "TCP"}, {"targetPort", 8080}}}}}}};
}

json slice(const std::string& svc_name, std::vector<std::string> ips) {
  json eps = json::array();
  for (const auto& ip : ips) eps.push_back({{"addresses", {ip}}, {"conditions", {{"ready", true}}}, {"nodeName", "n1"}});
  return {{"apiVersion", "discovery.k8s.io/v1"},
          {"kind", "EndpointSlice"},
          {"metadata",
           {{"name", svc_name + "-abc"},
            {"namespace", "default"},
            {"labels", {{"kubernetes.io/service-name", svc_name}}}}},
          {"addressType", "IPv4"},
          {"endpoints", eps},
          {"ports", {{{"name", "http"}, {"port", 8080}, {"protocol", "TCP"}}}}};
}

class SubsystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("cpp-svc-test-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    store_ = std::make_unique<store::DirectoryStore>((dir_ / "store").string(), std::chrono::milliseconds(20));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<ServiceSubsystem> make() {
    ServiceSubsystem::Options o;
    o.node.node_name = "n1";
    o.node.node_addresses = {*IpAddr::parse("192.0.2.11")};
    o.node.enable_ipv6 = false;
    o.state_dir = (dir_ / "services-api").string();
    auto s = std::make_unique<ServiceSubsystem>(*store_, maps_, o);
    s->start();
    return s;
  }

  // Waits until pred(list) holds.
  bool eventually(ServiceSubsystem& s, const std::function<bool(const json&)>& pred) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred(s.list())) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  static std::optional<json> find(const json& list, const std::string& ip) {
    for (const auto& e : list)
      if (e["spec"]["frontend-address"]["ip"] == ip) return e;
    return std::nullopt;
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::DirectoryStore> store_;
  FakeLbMaps maps_;
};

TEST_F(SubsystemTest, ServiceAndSliceBecomeAFrontendWithBackends) {
  store_->put(svc("web", "10.96.0.10"));
  store_->put(slice("web", {"10.0.0.1", "10.0.0.2"}));
  auto s = make();
  auto l = s->list();
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0]["spec"]["flags"]["name"], "web");
  EXPECT_EQ(l[0]["spec"]["backend-addresses"].size(), 2u);
  EXPECT_EQ(l[0]["spec"]["backend-addresses"][0]["port"], 8080);
  EXPECT_EQ(maps_.s.services.size(), 1u);
  EXPECT_EQ(maps_.s.backends.size(), 2u);

  store_->put(slice("web", {"10.0.0.1"}));
  EXPECT_TRUE(eventually(*s, [](const json& l) { return l.size() == 1 && l[0]["spec"]["backend-addresses"].size() == 1; }));
  EXPECT_EQ(maps_.s.backends.size(), 1u);
  store_->remove("Service", "default", "web");
  EXPECT_TRUE(eventually(*s, [](const json& l) { return l.empty(); }));
  EXPECT_TRUE(maps_.s.services.empty());
  EXPECT_TRUE(maps_.s.backends.empty());
}

TEST_F(SubsystemTest, DuplicateFrontendLeavesOnlyTheNewerServiceOut) {
  store_->put(svc("old", "10.96.0.10", "2026-01-01T00:00:00Z"));
  store_->put(svc("new", "10.96.0.10", "2026-02-01T00:00:00Z"));
  store_->put(svc("other", "10.96.0.11"));
  store_->put(slice("old", {"10.0.0.1"}));
  store_->put(slice("new", {"10.0.0.2"}));
  auto s = make();
  auto l = s->list();
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(find(l, "10.96.0.10")->at("spec")["flags"]["name"], "old");
  EXPECT_TRUE(find(l, "10.96.0.11"));
  auto st = s->status();
  ASSERT_TRUE(st["conflicts"].contains("default/new"));
  EXPECT_NE(st["conflicts"]["default/new"][0].get<std::string>().find("10.96.0.10:80/TCP already used by default/old"),
            std::string::npos);
  // The winner goes away: the other service gets the frontend.
  store_->remove("Service", "default", "old");
  EXPECT_TRUE(eventually(*s, [](const json& l) {
    auto e = find(l, "10.96.0.10");
    return e && e->at("spec")["flags"]["name"] == "new";
  }));
}

TEST_F(SubsystemTest, BadServiceIsIgnoredOthersWork) {
  auto bad = svc("bad", "10.96.0.12");
  bad["spec"]["ports"][0]["port"] = 70000;
  store_->put(svc("good", "10.96.0.13"));
  try {
    store_->put(bad);  // the store may refuse it already; either way nothing breaks
  } catch (const std::exception&) {
  }
  auto s = make();
  auto l = s->list();
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0]["spec"]["flags"]["name"], "good");
}

TEST_F(SubsystemTest, ApiServicesAreValidatedAndKeepTheirIds) {
  store_->put(svc("web", "10.96.0.10"));
  auto s = make();
  json spec = {{"frontend-address", {{"ip", "10.96.0.50"}, {"port", 80}}},
               {"backend-addresses", {{{"ip", "10.0.0.5"}, {"port", 80}}}}};
  EXPECT_TRUE(s->put(spec, 100));
  EXPECT_FALSE(s->put(spec, 100));  // same again: an update
  auto e = s->get(100);
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["spec"]["frontend-address"]["scope"], "internal");  // a ClusterIP has no external entry

  auto before = s->list();
  auto snapshot = maps_.s.services.size();
  json clash = {{"frontend-address", {{"ip", "10.96.0.10"}, {"port", 80}}}};
  try {
    s->put(clash, 101);
    FAIL() << "duplicate frontend accepted";
  } catch (const std::invalid_argument& ex) {
    EXPECT_NE(std::string(ex.what()).find("frontend-address: 10.96.0.10:80/TCP is already used by service default/web"),
              std::string::npos)
        << ex.what();
  }
  uint16_t web_id = before[0]["spec"]["id"].get<uint16_t>() == 100 ? before[1]["spec"]["id"] : before[0]["spec"]["id"];
  json other = {{"frontend-address", {{"ip", "10.96.0.51"}, {"port", 80}}}};
  EXPECT_THROW(s->put(other, web_id), std::invalid_argument);  // id of a Kubernetes frontend
  EXPECT_THROW(s->remove(web_id), std::invalid_argument);
  EXPECT_EQ(s->list(), before);
  EXPECT_EQ(maps_.s.services.size(), snapshot);

  // Restart: same ids for everything, the API service comes back from the state file.
  s->stop();
  s.reset();
  auto s2 = make();
  EXPECT_EQ(s2->list(), before);
  EXPECT_TRUE(s2->remove(100));
  EXPECT_FALSE(s2->get(100));
  EXPECT_FALSE(s2->remove(100));
}

TEST_F(SubsystemTest, ApiServiceMovesToAnotherFrontendKeepingItsId) {
  auto s = make();
  s->put({{"frontend-address", {{"ip", "10.96.0.50"}, {"port", 80}}}, {"backend-addresses", json::array()}}, 9);
  s->put({{"frontend-address", {{"ip", "10.96.0.60"}, {"port", 80}}}, {"backend-addresses", json::array()}}, 9);
  auto l = s->list();
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0]["spec"]["id"], 9);
  EXPECT_EQ(l[0]["spec"]["frontend-address"]["ip"], "10.96.0.60");
  EXPECT_EQ(maps_.s.services.size(), 1u);
}


TEST_F(SubsystemTest, OneChangeAmongManyServicesWritesOnlyItsOwnEntries) {
  for (int i = 0; i < 300; ++i) {
    auto name = "s" + std::to_string(i);
    store_->put(svc(name, "10.96." + std::to_string(i / 250 + 1) + "." + std::to_string(i % 250 + 1)));
    store_->put(slice(name, {"10.1." + std::to_string(i / 200) + "." + std::to_string(i % 200 + 1)}));
  }
  auto s = make();
  ASSERT_EQ(s->list().size(), 300u);
  maps_.log.clear();
  store_->put(slice("s7", {"10.1.0.8", "10.9.9.9"}));
  ASSERT_TRUE(eventually(*s, [](const json& l) {
    for (const auto& e : l)
      if (e["spec"]["flags"]["name"] == "s7") return e["spec"]["backend-addresses"].size() == 2;
    return false;
  }));
  EXPECT_LE(maps_.log.size(), 3u);  // the new backend, its slot, the service entry
}

}  // namespace
}  // namespace cpp::agent
