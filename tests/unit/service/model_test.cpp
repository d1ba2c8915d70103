#include <gtest/gtest.h>

#include <stdexcept>

#include "service/model.h"

using namespace cpp;
using namespace cpp::service;
using nlohmann::json;

namespace {

json svc_json() {
  return json::parse(R"({
    "apiVersion": "v1", "kind": "Service",
    "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"},
                 "creationTimestamp": "2024-01-02T03:04:05Z", "uid": "u-1"},
    "spec": {
      "type": "LoadBalancer",
      "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10", "fd00::10"],
      "ipFamilies": ["IPv4", "IPv6"], "ipFamilyPolicy": "PreferDualStack",
      "externalIPs": ["192.0.2.7"],
      "selector": {"app": "web"},
      "ports": [
        {"name": "http", "protocol": "TCP", "port": 80, "targetPort": "web-port", "nodePort": 30080},
        {"name": "dns", "protocol": "UDP", "port": 53, "targetPort": 5353}
      ],
      "sessionAffinity": "ClientIP",
      "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 60}},
      "externalTrafficPolicy": "Local",
      "internalTrafficPolicy": "Cluster"
    },
    "status": {"loadBalancer": {"ingress": [{"ip": "198.51.100.1"}, {"hostname": "lb.example"}]}}
  })");
}

// The error message parse_service throws for `j`, "" when it parses.
std::string svc_error(const json& j) {
  try {
    parse_service(j);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

std::string slice_error(const json& j) {
  try {
    parse_endpoint_slice(j);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

IpAddr ip(const char* s) { return *IpAddr::parse(s); }

}  // namespace

TEST(ParseService, FullLoadBalancerService) {
  Service s = parse_service(svc_json());
  EXPECT_EQ(s.key(), "shop/web");
  EXPECT_EQ(s.type, "LoadBalancer");
  ASSERT_EQ(s.cluster_ips.size(), 2u);
  EXPECT_EQ(s.cluster_ips[0], ip("10.96.0.10"));
  EXPECT_EQ(s.cluster_ips[1], ip("fd00::10"));
  EXPECT_EQ(s.ip_families, (std::vector<std::string>{"IPv4", "IPv6"}));
  EXPECT_EQ(s.ip_family_policy, "PreferDualStack");
  EXPECT_EQ(s.external_ips, std::vector<IpAddr>{ip("192.0.2.7")});
  EXPECT_EQ(s.lb_ingress, std::vector<IpAddr>{ip("198.51.100.1")});
  ASSERT_EQ(s.ports.size(), 2u);
  EXPECT_EQ(s.ports[0].name, "http");
  EXPECT_EQ(s.ports[0].node_port, 30080);
  EXPECT_EQ(s.ports[0].target_port, "web-port");
  EXPECT_EQ(s.ports[1].protocol, Protocol::UDP);
  EXPECT_EQ(s.ports[1].target_port, "5353");
  EXPECT_TRUE(s.affinity_client_ip);
  EXPECT_EQ(s.affinity_timeout_s, 60u);
  EXPECT_EQ(s.external_policy, TrafficPolicy::Local);
  EXPECT_EQ(s.internal_policy, TrafficPolicy::Cluster);
  EXPECT_EQ(s.labels.at("app"), "web");
  EXPECT_EQ(s.selector.at("app"), "web");
  EXPECT_EQ(s.creation_timestamp, "2024-01-02T03:04:05Z");
}

TEST(ParseService, Defaults) {
  Service s = parse_service(json::parse(R"({"metadata": {"name": "a"},
      "spec": {"clusterIP": "10.0.0.1", "ports": [{"port": 80}], "sessionAffinity": "ClientIP"}})"));
  EXPECT_EQ(s.ns, "default");
  EXPECT_EQ(s.type, "ClusterIP");
  EXPECT_EQ(s.ports[0].protocol, Protocol::TCP);
  EXPECT_EQ(s.ports[0].target_port, "");
  EXPECT_EQ(s.affinity_timeout_s, 10800u);
  EXPECT_EQ(s.external_policy, TrafficPolicy::Cluster);
}

TEST(ParseService, HeadlessHasNoClusterIPs) {
  auto j = svc_json();
  j["spec"]["type"] = "ClusterIP";
  j["spec"]["clusterIP"] = "None";
  j["spec"]["clusterIPs"] = {"None"};
  j["spec"].erase("externalTrafficPolicy");
  for (auto& p : j["spec"]["ports"]) p.erase("nodePort");
  EXPECT_TRUE(parse_service(j).cluster_ips.empty());
}

TEST(ParseService, ClusterIPOnlyWithoutClusterIPs) {
  Service s = parse_service(json::parse(R"({"metadata": {"name": "a"}, "spec": {"clusterIP": "fd00::1"}})"));
  EXPECT_EQ(s.cluster_ips, std::vector<IpAddr>{ip("fd00::1")});
}

TEST(ParseService, Errors) {
  auto with = [](auto&& edit) {
    auto j = svc_json();
    edit(j);
    return svc_error(j);
  };
  EXPECT_EQ(with([](json& j) { j["spec"]["type"] = "ExternalName"; }).rfind("spec.type: ExternalName", 0), 0u);
  EXPECT_EQ(with([](json& j) { j["spec"]["type"] = "Bogus"; }).rfind("spec.type:", 0), 0u);
  EXPECT_EQ(with([](json& j) { j["spec"]["ports"][1]["protocol"] = "ICMP"; }),
            "spec.ports[1].protocol: unsupported protocol \"ICMP\"");
  EXPECT_EQ(with([](json& j) { j["spec"]["ports"][0]["port"] = 0; }), "spec.ports[0].port: must be 1..65535, got 0");
  EXPECT_EQ(with([](json& j) { j["spec"]["ports"][0]["port"] = 65536; }),
            "spec.ports[0].port: must be 1..65535, got 65536");
  EXPECT_EQ(with([](json& j) { j["spec"]["ports"][0]["port"] = "80"; }),
            "spec.ports[0].port: expected an integer, got string");
  EXPECT_EQ(with([](json& j) { j["spec"]["ports"][0].erase("port"); }), "spec.ports[0].port: missing");
  EXPECT_EQ(with([](json& j) { j["spec"]["ports"][0]["nodePort"] = 70000; }),
            "spec.ports[0].nodePort: must be 1..65535, got 70000");
  EXPECT_EQ(with([](json& j) { j["spec"]["ports"][0]["targetPort"] = 0; }),
            "spec.ports[0].targetPort: must be 1..65535, got 0");
  EXPECT_EQ(with([](json& j) { j["spec"]["ports"][0]["targetPort"] = true; }),
            "spec.ports[0].targetPort: expected a number or a port name, got boolean");
  EXPECT_EQ(with([](json& j) {
              j["spec"]["ports"][1]["port"] = 80;
              j["spec"]["ports"][1]["protocol"] = "TCP";
            }),
            "spec.ports[1]: duplicate port 80/TCP (also spec.ports[0])");
  EXPECT_EQ(with([](json& j) { j["spec"]["ports"][1]["name"] = "http"; }),
            "spec.ports[1].name: duplicate name \"http\" (also spec.ports[0])");
  EXPECT_EQ(with([](json& j) { j["spec"]["clusterIPs"][1] = "fd00::zz"; }),
            "spec.clusterIPs[1]: invalid IP address \"fd00::zz\"");
  EXPECT_EQ(with([](json& j) { j["spec"]["clusterIPs"][1] = "10.96.0.11"; }),
            "spec.clusterIPs[1]: a second IPv4 cluster IP");
  EXPECT_EQ(with([](json& j) { j["spec"]["externalIPs"][0] = "nope"; }),
            "spec.externalIPs[0]: invalid IP address \"nope\"");
  EXPECT_EQ(with([](json& j) { j["spec"]["ipFamilies"][0] = "IPv5"; }),
            "spec.ipFamilies[0]: must be IPv4 or IPv6, got \"IPv5\"");
  EXPECT_EQ(with([](json& j) { j["spec"]["sessionAffinityConfig"]["clientIP"]["timeoutSeconds"] = 0; }),
            "spec.sessionAffinityConfig.clientIP.timeoutSeconds: must be 1..86400, got 0");
  EXPECT_EQ(with([](json& j) { j["spec"]["sessionAffinityConfig"]["clientIP"]["timeoutSeconds"] = 86401; }),
            "spec.sessionAffinityConfig.clientIP.timeoutSeconds: must be 1..86400, got 86401");
  EXPECT_EQ(with([](json& j) { j["spec"]["sessionAffinity"] = "Cookie"; }),
            "spec.sessionAffinity: must be None or ClientIP, got \"Cookie\"");
  EXPECT_EQ(with([](json& j) { j["spec"]["externalTrafficPolicy"] = "Nearest"; }),
            "spec.externalTrafficPolicy: must be Cluster or Local, got \"Nearest\"");
  EXPECT_EQ(with([](json& j) { j["spec"]["internalTrafficPolicy"] = 1; }),
            "spec.internalTrafficPolicy: expected a string, got number");
  EXPECT_EQ(with([](json& j) { j["status"]["loadBalancer"]["ingress"][0]["ip"] = "x"; }),
            "status.loadBalancer.ingress[0].ip: invalid IP address \"x\"");
  EXPECT_EQ(with([](json& j) { j["metadata"].erase("name"); }), "metadata.name: missing");
  EXPECT_EQ(with([](json& j) { j["spec"] = json::array(); }), "spec: expected a mapping, got list");
  EXPECT_EQ(with([](json& j) { j["spec"]["ports"] = json::object(); }), "spec.ports: expected a list, got mapping");
  EXPECT_EQ(with([](json& j) { j["spec"]["selector"] = {{"app", 1}}; }), "spec.selector.app: expected a string, got number");
  // ClusterIP services have no node ports and no external traffic policy Local.
  EXPECT_EQ(with([](json& j) {
              j["spec"]["type"] = "ClusterIP";
              j["spec"].erase("externalTrafficPolicy");
            }),
            "spec.ports[0].nodePort: only NodePort and LoadBalancer services have node ports");
  EXPECT_EQ(with([](json& j) {
              j["spec"]["type"] = "ClusterIP";
              for (auto& p : j["spec"]["ports"]) p.erase("nodePort");
            }),
            "spec.externalTrafficPolicy: Local is only for NodePort and LoadBalancer services");
}

TEST(ParseEndpointSlice, ConditionsDefaultsAndPorts) {
  auto es = parse_endpoint_slice(json::parse(R"({
    "metadata": {"name": "web-abc", "namespace": "shop", "labels": {"kubernetes.io/service-name": "web"}},
    "addressType": "IPv4",
    "endpoints": [
      {"addresses": ["10.0.1.5"], "nodeName": "n1", "targetRef": {"kind": "Pod", "namespace": "shop", "name": "p1"}},
      {"addresses": ["10.0.1.6"], "conditions": {"ready": false}},
      {"addresses": ["10.0.1.7"], "conditions": {"ready": false, "serving": true, "terminating": true}}
    ],
    "ports": [{"name": "http", "protocol": "TCP", "port": 8080}, {"name": "all"}]
  })"));
  EXPECT_EQ(es.service_name, "web");
  ASSERT_EQ(es.endpoints.size(), 3u);
  EXPECT_TRUE(es.endpoints[0].ready);
  EXPECT_TRUE(es.endpoints[0].serving);
  EXPECT_FALSE(es.endpoints[0].terminating);
  EXPECT_EQ(es.endpoints[0].node_name, "n1");
  EXPECT_EQ(es.endpoints[0].target_ref, "shop/p1");
  EXPECT_FALSE(es.endpoints[1].ready);
  EXPECT_FALSE(es.endpoints[1].serving);  // absent serving follows ready
  EXPECT_TRUE(es.endpoints[2].serving);
  EXPECT_TRUE(es.endpoints[2].terminating);
  ASSERT_EQ(es.ports.size(), 2u);
  EXPECT_EQ(es.ports[0].port, 8080);
  EXPECT_EQ(es.ports[1].port, 0);
}

TEST(ParseEndpointSlice, FqdnIsIgnored) {
  auto es = parse_endpoint_slice(json::parse(R"({
    "metadata": {"name": "x", "labels": {"kubernetes.io/service-name": "web"}},
    "addressType": "FQDN", "endpoints": [{"addresses": ["example.com"]}]})"));
  EXPECT_EQ(es.address_type, "FQDN");
  EXPECT_TRUE(es.endpoints.empty());
}

TEST(ParseEndpointSlice, Errors) {
  auto base = json::parse(R"({
    "metadata": {"name": "x", "labels": {"kubernetes.io/service-name": "web"}},
    "addressType": "IPv6", "endpoints": [{"addresses": ["fd00::1"]}], "ports": [{"port": 80}]})");
  auto with = [&](auto&& edit) {
    auto j = base;
    edit(j);
    return slice_error(j);
  };
  EXPECT_EQ(with([](json&) {}), "");
  EXPECT_EQ(with([](json& j) { j["endpoints"][0]["addresses"][0] = "10.0.0.1"; }),
            "endpoints[0].addresses[0]: \"10.0.0.1\" is not an IPv6 address");
  EXPECT_EQ(with([](json& j) { j["addressType"] = "IPX"; }), "addressType: must be IPv4, IPv6 or FQDN, got \"IPX\"");
  EXPECT_EQ(with([](json& j) { j["ports"][0]["protocol"] = "ICMP"; }), "ports[0].protocol: unsupported protocol \"ICMP\"");
  EXPECT_EQ(with([](json& j) { j["ports"][0]["port"] = 0; }), "ports[0].port: must be 1..65535, got 0");
  EXPECT_EQ(with([](json& j) { j["endpoints"][0]["conditions"] = {{"ready", "yes"}}; }),
            "endpoints[0].conditions.ready: expected a boolean, got string");
  EXPECT_EQ(with([](json& j) { j["metadata"]["labels"] = json::object(); }),
            "metadata.labels: missing kubernetes.io/service-name (the owning service)");
  EXPECT_EQ(with([](json& j) { j["endpoints"][0].erase("addresses"); }), "endpoints[0].addresses: missing");
}
