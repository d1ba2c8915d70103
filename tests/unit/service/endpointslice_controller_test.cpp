#include <gtest/gtest.h>

#include <stdexcept>

#include "service/endpointslice_controller.h"
#include "service/model.h"

using namespace cpp;
using namespace cpp::service;
using nlohmann::json;

namespace {

json web_service() {
  return json::parse(R"({
    "metadata": {"name": "web", "namespace": "shop", "uid": "svc-uid"},
    "spec": {"clusterIPs": ["10.96.0.10", "fd00::10"], "selector": {"app": "web"},
             "ports": [{"name": "http", "port": 80, "targetPort": "http-port"},
                       {"name": "metrics", "port": 9100}]}})");
}

json pod(const std::string& name, const std::string& node, std::vector<std::string> ips, int http_port = 8080,
         const std::string& ns = "shop", const std::string& app = "web") {
  json p = {{"metadata", {{"name", name}, {"namespace", ns}, {"labels", {{"app", app}}}}},
            {"spec",
             {{"nodeName", node},
              {"containers", {{{"name", "c"}, {"ports", {{{"name", "http-port"}, {"containerPort", http_port}}}}}}}}},
            {"status", {{"phase", "Running"}, {"podIPs", json::array()}}}};
  for (auto& i : ips) p["status"]["podIPs"].push_back({{"ip", i}});
  return p;
}

}  // namespace

TEST(EndpointSliceController, OneSlicePerFamily) {
  auto slices = slices_for(web_service(), {pod("web-2", "n2", {"10.0.2.2", "fd10::2"}), pod("web-1", "n1", {"10.0.1.1"}),
                                       pod("other", "n1", {"10.0.1.9"}, 8080, "shop", "db"),
                                       pod("web-elsewhere", "n1", {"10.0.1.8"}, 8080, "other-ns")});
  ASSERT_EQ(slices.size(), 2u);
  EXPECT_EQ(slices[0]["metadata"]["name"], "web-ipv4");
  EXPECT_EQ(slices[0]["metadata"]["labels"]["kubernetes.io/service-name"], "web");
  EXPECT_EQ(slices[0]["metadata"]["ownerReferences"][0]["uid"], "svc-uid");
  EXPECT_EQ(slices[1]["metadata"]["name"], "web-ipv6");

  // The output parses as EndpointSlices and feeds the service model.
  auto v4 = parse_endpoint_slice(slices[0]);
  EXPECT_EQ(v4.service_name, "web");
  EXPECT_EQ(v4.ns, "shop");
  ASSERT_EQ(v4.endpoints.size(), 2u);
  EXPECT_EQ(v4.endpoints[0].target_ref, "shop/web-1");
  EXPECT_EQ(v4.endpoints[0].node_name, "n1");
  EXPECT_EQ(v4.endpoints[1].addresses[0].str(), "10.0.2.2");
  ASSERT_EQ(v4.ports.size(), 2u);
  EXPECT_EQ(v4.ports[0].name, "http");
  EXPECT_EQ(v4.ports[0].port, 8080);  // named target port resolved on the pod
  EXPECT_EQ(v4.ports[1].name, "metrics");
  EXPECT_EQ(v4.ports[1].port, 9100);  // no targetPort: the service port
  auto v6 = parse_endpoint_slice(slices[1]);
  ASSERT_EQ(v6.endpoints.size(), 1u);
  EXPECT_EQ(v6.endpoints[0].addresses[0].str(), "fd10::2");

  NodeView n;
  n.node_name = "n1";
  auto fs = frontends_of(parse_service(web_service()), {v4, v6}, n);
  ASSERT_EQ(fs.size(), 4u);
  EXPECT_EQ(fs[0].addr.str(), "10.96.0.10:80/TCP");
  EXPECT_EQ(fs[0].backends.size(), 2u);
  EXPECT_EQ(fs[0].backends[0].addr.str(), "10.0.1.1:8080/TCP");
}

TEST(EndpointSliceController, TerminatingAndNotReadyPods) {
  auto dying = pod("web-1", "n1", {"10.0.1.1"});
  dying["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z";
  auto unready = pod("web-2", "n1", {"10.0.1.2"});
  unready["status"]["conditions"] = {{{"type", "Ready"}, {"status", "False"}}};
  auto done = pod("web-3", "n1", {"10.0.1.3"});
  done["status"]["phase"] = "Succeeded";
  auto svc = web_service();
  svc["spec"]["clusterIPs"] = {"10.96.0.10"};
  auto slices = slices_for(svc, {dying, unready, done});
  ASSERT_EQ(slices.size(), 1u);
  auto es = parse_endpoint_slice(slices[0]);
  ASSERT_EQ(es.endpoints.size(), 2u);
  EXPECT_FALSE(es.endpoints[0].ready);
  EXPECT_TRUE(es.endpoints[0].serving);
  EXPECT_TRUE(es.endpoints[0].terminating);
  EXPECT_FALSE(es.endpoints[1].ready);
  EXPECT_FALSE(es.endpoints[1].serving);
  EXPECT_FALSE(es.endpoints[1].terminating);
}

TEST(EndpointSliceController, PodsWithDifferentNamedPortsSplit) {
  auto svc = web_service();
  svc["spec"]["clusterIPs"] = {"10.96.0.10"};
  auto no_named = pod("web-9", "n1", {"10.0.1.9"});
  no_named["spec"]["containers"][0].erase("ports");
  auto slices = slices_for(svc, {pod("web-1", "n1", {"10.0.1.1"}), pod("web-2", "n1", {"10.0.1.2"}),
                                 pod("web-3", "n1", {"10.0.1.3"}, 9090), no_named});
  ASSERT_EQ(slices.size(), 3u);
  EXPECT_EQ(slices[0]["metadata"]["name"], "web-ipv4");
  EXPECT_EQ(slices[0]["endpoints"].size(), 2u);
  EXPECT_EQ(slices[1]["metadata"]["name"], "web-ipv4-2");
  EXPECT_EQ(slices[2]["metadata"]["name"], "web-ipv4-3");
  // The pod without the named port serves only the numeric one.
  bool found = false;
  for (auto& s : slices)
    if (s["endpoints"].size() == 1 && s["endpoints"][0]["targetRef"]["name"] == "web-9") {
      found = true;
      EXPECT_EQ(s["ports"].size(), 1u);
      EXPECT_EQ(s["ports"][0]["name"], "metrics");
    }
  EXPECT_TRUE(found);
}

TEST(EndpointSliceController, EmptyHeadlessSelectorless) {
  auto slices = slices_for(web_service(), {});
  ASSERT_EQ(slices.size(), 2u);
  EXPECT_TRUE(slices[0]["endpoints"].empty());
  EXPECT_EQ(slices[0]["ports"].size(), 1u);  // the named port cannot be resolved without pods

  auto headless = web_service();
  headless["spec"]["clusterIPs"] = {"None"};
  EXPECT_TRUE(slices_for(headless, {pod("web-1", "n1", {"10.0.1.1"})}).empty());
  auto selectorless = web_service();
  selectorless["spec"].erase("selector");
  EXPECT_TRUE(slices_for(selectorless, {pod("web-1", "n1", {"10.0.1.1"})}).empty());
}

TEST(EndpointSliceController, Errors) {
  auto bad = pod("web-1", "n1", {"10.0.1.x"});
  try {
    slices_for(web_service(), {bad});
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "pod shop/web-1: status.podIPs[0].ip: invalid IP address \"10.0.1.x\"");
  }
  auto svc = web_service();
  svc["spec"]["ports"][0]["protocol"] = "ICMP";
  EXPECT_THROW(slices_for(svc, {}), std::invalid_argument);
}
