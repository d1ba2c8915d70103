#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "agent/api_routes.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace cpp;

namespace {

class NullDatapath : public endpoint::EndpointDatapath {
 public:
  void attach(const endpoint::Endpoint&) override { ++attaches; }
  void detach(const endpoint::Endpoint&) override { ++detaches; }
  bool link_exists(const endpoint::Endpoint&) override { return true; }
  void prune(const std::vector<endpoint::Endpoint>&) override {}
  int attaches = 0, detaches = 0;
};

class ApiRoutesTest : public ::testing::Test {
 protected:
  ApiRoutesTest()
      : dir_(fs::temp_directory_path() / ("cpp-api-test-" + std::to_string(::getpid()))),
        ipam_(IpPrefix::parse("10.233.64.0/24"), IpPrefix::parse("fd00:10:233:1::/64"), make_dir() + "/ipam.json"),
        endpoints_(dir_.string(), dp_),
        handler_(agent::make_api_handler(agent::ApiContext{
            endpoints_, ipam_, [this] { return ready_; }, [] { return json{{"node-name", "n1"}}; },
            [] { return json::object(); }, [] { return json::array(); },
            [](const std::string&) -> std::optional<json> { return std::nullopt; },
            [](endpoint::Endpoint& ep) { ep.labels["from"] = "pod"; }, 1450})) {}
  ~ApiRoutesTest() override { fs::remove_all(dir_); }
  std::string make_dir() {
    fs::create_directories(dir_);
    return dir_.string();
  }
  api::HttpResponse call(const std::string& method, const std::string& path, const std::string& body = "") {
    return handler_(api::HttpRequest{method, path, "", body});
  }
  json endpoint_body(const std::string& cid, const std::string& ip4) {
    return {{"container-id", cid},       {"host-interface-name", "lxc" + cid}, {"host-ifindex", 5},
            {"mac", "02:00:00:00:00:02"}, {"host-mac", "02:00:00:00:00:01"},    {"addressing", {{"ipv4", ip4}}}};
  }

  fs::path dir_;
  NullDatapath dp_;
  ipam::NodeIpam ipam_;
  endpoint::Manager endpoints_;
  bool ready_ = true;
  api::UnixHttpServer::Handler handler_;
};

}  // namespace

TEST_F(ApiRoutesTest, HealthzFollowsReadiness) {
  EXPECT_EQ(call("GET", "/v1/healthz").status, 200);
  ready_ = false;
  EXPECT_EQ(call("GET", "/v1/healthz").status, 503);
}

TEST_F(ApiRoutesTest, IpamAllocateIsIdempotentAndReleases) {
  auto r1 = call("POST", "/v1/ipam", R"({"owner":"c1:eth0"})");
  ASSERT_EQ(r1.status, 201);
  auto j1 = json::parse(r1.body);
  EXPECT_EQ(j1["ipv4"]["gateway"], "10.233.64.1");
  EXPECT_EQ(j1["ipv6"]["gateway"], "fd00:10:233:1::1");
  EXPECT_EQ(j1["mtu"], 1450);
  auto j2 = json::parse(call("POST", "/v1/ipam", R"({"owner":"c1:eth0"})").body);
  EXPECT_EQ(j1["ipv4"]["ip"], j2["ipv4"]["ip"]);
  EXPECT_EQ(json::parse(call("DELETE", "/v1/ipam/c1:eth0").body)["released"], true);
  EXPECT_EQ(json::parse(call("DELETE", "/v1/ipam/c1:eth0").body)["released"], false);
  EXPECT_EQ(call("POST", "/v1/ipam", "{").status, 400);
  EXPECT_EQ(call("POST", "/v1/ipam", R"({"owner":""})").status, 400);
}

TEST_F(ApiRoutesTest, EndpointLifecycle) {
  auto put = call("PUT", "/v1/endpoint", endpoint_body("c1", "10.233.64.7").dump());
  ASSERT_EQ(put.status, 201) << put.body;
  auto ep = json::parse(put.body);
  EXPECT_EQ(ep["labels"]["from"], "pod") << "labels come from the Pod object";
  std::string id = std::to_string(ep["id"].get<int>());
  EXPECT_EQ(call("GET", "/v1/endpoint/" + id).status, 200);
  EXPECT_EQ(call("GET", "/v1/endpoint/container-id:c1").status, 200);
  EXPECT_EQ(json::parse(call("GET", "/v1/endpoint").body).size(), 1u);
  EXPECT_EQ(call("DELETE", "/v1/endpoint/container-id:c1").status, 200);
  EXPECT_EQ(dp_.detaches, 1);
  auto missing = call("GET", "/v1/endpoint/" + id);
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(json::parse(missing.body)["error"].get<std::string>().find("not found"), std::string::npos);
}

TEST_F(ApiRoutesTest, BadEndpointRequestsChangeNothing) {
  EXPECT_EQ(call("PUT", "/v1/endpoint", "not json").status, 400);
  auto b = endpoint_body("c1", "10.99.0.7");
  auto r = call("PUT", "/v1/endpoint", b.dump());
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("outside this node's PodCIDR"), std::string::npos);
  b = endpoint_body("c1", "10.233.64.7");
  b["host-ifindex"] = -1;
  EXPECT_EQ(call("PUT", "/v1/endpoint", b.dump()).status, 400);
  EXPECT_EQ(dp_.attaches, 0);
  EXPECT_TRUE(endpoints_.list().empty());
  EXPECT_EQ(call("GET", "/v1/endpoint/abc").status, 404);
  EXPECT_EQ(call("GET", "/v1/endpoint/99999999").status, 404);
  EXPECT_EQ(call("GET", "/v2/nothing").status, 404);
  EXPECT_EQ(call("GET", "/v1/map/nope").status, 404);
}
