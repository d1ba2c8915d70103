#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "agent/cep_publisher.h"
#include "identity/identity.h"

using namespace cpp;
using nlohmann::json;

namespace {

class CepPublisherTest : public ::testing::Test {
 protected:
  CepPublisherTest() {
    std::string t = (std::filesystem::temp_directory_path() / "cpp-cep-XXXXXX").string();
    dir_ = mkdtemp(t.data());
    store_ = std::make_unique<store::DirectoryStore>(dir_);
  }
  ~CepPublisherTest() override { std::filesystem::remove_all(dir_); }
  std::optional<json> cep(const std::string& name) { return store_->get("CiliumEndpoint", "shop", name); }

  static endpoint::Endpoint ep(uint16_t id, const std::string& pod) {
    endpoint::Endpoint e;
    e.id = id;
    e.container_id = "c" + std::to_string(id);
    e.ipv4 = *IpAddr::parse("10.233.64." + std::to_string(id));
    e.k8s_namespace = "shop";
    e.k8s_pod_name = pod;
    e.identity = 1000 + id;
    return e;
  }

  std::string dir_;
  std::unique_ptr<store::DirectoryStore> store_;
};

}  // namespace

TEST_F(CepPublisherTest, PolicyEnforcementFollowsThePolicySubsystem) {
  agent::CepPublisher p(*store_, "192.0.2.11", false);
  p.enforcement_changed(5, true, false);  // reported before the endpoint is published
  p.endpoint_changed(ep(5, "web"), false);
  auto o = cep("web");
  ASSERT_TRUE(o);
  EXPECT_EQ((*o)["status"]["policy"]["ingress"]["enforcing"], true);
  EXPECT_EQ((*o)["status"]["policy"]["egress"]["enforcing"], false);
  EXPECT_EQ((*o)["status"]["policy"]["ingress"]["state"], "<status disabled>");  // as the seed's
  EXPECT_EQ((*o)["status"]["visibility-policy-status"], "<status disabled>");
  p.enforcement_changed(5, false, true);
  o = cep("web");
  EXPECT_EQ((*o)["status"]["policy"]["ingress"]["enforcing"], false);
  EXPECT_EQ((*o)["status"]["policy"]["egress"]["enforcing"], true);
  EXPECT_FALSE((*o)["metadata"].contains("ownerReferences"));  // only in Kubernetes mode
  p.endpoint_changed(ep(5, "web"), true);
  EXPECT_FALSE(cep("web"));
  p.enforcement_changed(5, true, true);  // a gone endpoint is not published again
  EXPECT_FALSE(cep("web"));
}

TEST_F(CepPublisherTest, KubernetesModeAddsOwnerAndNamedPortsAndSkipsHealth) {
  store_->put(json::parse(R"({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "db", "namespace": "shop"},
      "spec": {"containers": [{"name": "pg", "ports": [{"name": "sql", "containerPort": 5432}]}]}})"));
  agent::CepPublisher p(*store_, "192.0.2.11", true);
  p.endpoint_changed(ep(6, "db"), false);
  auto o = cep("db");
  ASSERT_TRUE(o);
  EXPECT_EQ((*o)["metadata"]["ownerReferences"][0]["kind"], "Pod");
  EXPECT_EQ((*o)["status"]["named-ports"][0]["name"], "sql");
  EXPECT_EQ((*o)["status"]["encryption"], json::object());
  auto health = ep(7, "health");
  health.identity = identity::kHealth;
  p.endpoint_changed(health, false);
  EXPECT_FALSE(cep("health"));
}
