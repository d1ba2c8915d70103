// The REST shapes of /v1/service: parsing with field-named errors, and the
// frontends an API-created service programs.
#include <gtest/gtest.h>

#include "agent/service_api.h"

namespace cpp::agent {
namespace {

using nlohmann::json;

json spec() {
  return json::parse(R"({
    "id": 7,
    "frontend-address": {"ip": "10.96.0.50", "port": 80, "protocol": "TCP", "scope": "external"},
    "backend-addresses": [{"ip": "10.0.0.1", "port": 8080}, {"ip": "10.0.0.2", "port": 8080, "state": "terminating"}],
    "flags": {"type": "NodePort", "extTrafficPolicy": "Local", "name": "web", "namespace": "shop"}
  })");
}

std::string error_of(const json& body, uint16_t id = 7) {
  try {
    parse_service_spec(body, id);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(ServiceApi, ParsesUpstreamServiceSpec) {
  auto s = parse_service_spec(spec(), 7);
  EXPECT_EQ(s.id, 7);
  EXPECT_EQ(s.frontend.str(), "10.96.0.50:80/TCP");
  EXPECT_EQ(s.type, service::FrontendType::NodePort);
  ASSERT_EQ(s.backends.size(), 2u);
  EXPECT_FALSE(s.backends[0].terminating);
  EXPECT_TRUE(s.backends[1].terminating);
  EXPECT_EQ(s.ext_policy, service::TrafficPolicy::Local);
  EXPECT_EQ(s.int_policy, service::TrafficPolicy::Cluster);
  EXPECT_EQ(s.name, "web");
  EXPECT_EQ(api_service_from_json(api_service_json(s)), s);
}

TEST(ServiceApi, BadInputNamesTheField) {
  auto with = [](const std::string& ptr, json v) {
    auto j = spec();
    j[json::json_pointer(ptr)] = v;
    return j;
  };
  EXPECT_EQ(error_of(with("/frontend-address/port", 70000)), "frontend-address.port: 70000 is outside 1..65535");
  EXPECT_EQ(error_of(with("/frontend-address/ip", "10.96.0")), "frontend-address.ip: \"10.96.0\" is not an IP address");
  EXPECT_EQ(error_of(with("/frontend-address/protocol", "ICMP")), "frontend-address.protocol: \"ICMP\" is not TCP, UDP or SCTP");
  EXPECT_EQ(error_of(with("/frontend-address/scope", "both")), "frontend-address.scope: \"both\" is not external or internal");
  EXPECT_EQ(error_of(with("/backend-addresses/1/port", 0)), "backend-addresses[1].port: 0 is outside 1..65535");
  EXPECT_EQ(error_of(with("/backend-addresses/0/ip", "fd00::1")), "backend-addresses[0].ip: fd00::1 is not of the frontend's family");
  EXPECT_EQ(error_of(with("/backend-addresses/1/ip", "10.0.0.1")), "backend-addresses[1].ip: 10.0.0.1:8080/TCP is listed twice");
  EXPECT_EQ(error_of(with("/backend-addresses/0/state", "maintenance")), "backend-addresses[0].state: \"maintenance\" is not active or terminating");
  EXPECT_EQ(error_of(with("/flags/type", "HostPort")), "flags.type: \"HostPort\" is not ClusterIP, NodePort, ExternalIPs or LoadBalancer");
  EXPECT_EQ(error_of(with("/flags/trafficPolicy", "Everywhere")), "flags.trafficPolicy: \"Everywhere\" is not Cluster or Local");
  EXPECT_EQ(error_of(spec(), 8), "id: 7 differs from the id in the path (8)");
  EXPECT_EQ(error_of(json::array()), "body: must be a JSON object (ServiceSpec)");
  auto no_fe = spec();
  no_fe.erase("frontend-address");
  EXPECT_EQ(error_of(no_fe), "frontend-address: required ({ip, port, protocol, scope})");
}

TEST(ServiceApi, ExternalScopeServesBothScopesWhenReachableFromOutside) {
  auto s = parse_service_spec(spec(), 7);
  auto fes = api_frontends(s, false);
  ASSERT_EQ(fes.size(), 2u);
  EXPECT_EQ(fes[0].scope, service::Scope::External);
  EXPECT_TRUE(fes[0].local);
  EXPECT_EQ(fes[1].scope, service::Scope::Internal);
  EXPECT_FALSE(fes[1].local);
  EXPECT_EQ(fes[0].active_count(), 1u);
  EXPECT_EQ(fes[0].service, "api/7");

  s.type = service::FrontendType::ClusterIP;
  EXPECT_EQ(api_frontends(s, false).size(), 1u);
  EXPECT_EQ(api_frontends(s, false)[0].scope, service::Scope::Internal);
  EXPECT_EQ(api_frontends(s, true).size(), 2u);
  s.type = service::FrontendType::NodePort;
  s.internal_only = true;
  EXPECT_EQ(api_frontends(s, false).size(), 1u);
}

TEST(ServiceApi, EntryJsonHasUpstreamShape) {
  auto s = parse_service_spec(spec(), 7);
  auto j = service_entry_json(7, api_frontends(s, false)[0], "shop", "web");
  EXPECT_EQ(j["spec"]["id"], 7);
  EXPECT_EQ(j["spec"]["frontend-address"]["scope"], "external");
  EXPECT_EQ(j["spec"]["backend-addresses"][1]["state"], "terminating");
  EXPECT_EQ(j["spec"]["flags"]["type"], "NodePort");
  EXPECT_EQ(j["spec"]["flags"]["extTrafficPolicy"], "Local");
  EXPECT_EQ(j["spec"]["flags"]["namespace"], "shop");
  EXPECT_EQ(j["status"]["realized"], j["spec"]);
}

}  // namespace
}  // namespace cpp::agent
