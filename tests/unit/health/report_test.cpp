#include <gtest/gtest.h>

#include "health/report.h"

using namespace cpp;
using namespace cpp::health;

namespace {
IpAddr ip(const char* s) { return *IpAddr::parse(s); }

HealthReport sample() {
  HealthReport r;
  r.local_node = "n1";
  r.probe_time_ms = 1700000000123;
  r.interval_ms = 2000;
  NodeHealth a{"n1", true, {}, {}};
  a.host.push_back({ip("192.0.2.1"), ProbeResult::ok(52000), ProbeResult::ok(301000)});
  a.host.push_back({ip("2001:db8::1"), ProbeResult::ok(61000), ProbeResult::ok(402000)});
  a.endpoint.push_back({ip("10.233.64.5"), ProbeResult::ok(70000), ProbeResult::ok(350000)});
  NodeHealth b{"n2", false, {}, {}};
  b.host.push_back({ip("192.0.2.99"), ProbeResult::failed("no echo reply within 2000ms"),
                    ProbeResult::failed("connect: No route to host")});
  r.nodes = {a, b};
  return r;
}
}  // namespace

TEST(HealthReport, NodeIsReachableOnlyWhenEveryProbedPathAnswersBoth) {
  auto r = sample();
  EXPECT_TRUE(r.nodes[0].reachable());
  EXPECT_FALSE(r.nodes[1].reachable());
  EXPECT_EQ(r.reachable_count(), 1u);
  // One failed HTTP probe on the health endpoint is enough.
  r.nodes[0].endpoint[0].http = ProbeResult::failed("HTTP status 500");
  EXPECT_FALSE(r.nodes[0].reachable());
  // A node without any known address cannot be called reachable.
  EXPECT_FALSE((NodeHealth{"n3", false, {}, {}}).reachable());
  // Not probed yet is not reachable either.
  NodeHealth pending{"n4", false, {{ip("192.0.2.4"), {}, {}}}, {}};
  EXPECT_FALSE(pending.reachable());
}

TEST(HealthReport, JsonHasUpstreamShapeAndFlatAddresses) {
  auto j = to_json(sample());
  EXPECT_EQ(j["reachable"], 1);
  EXPECT_EQ(j["total"], 2);
  const auto& n1 = j["nodes"][0];
  EXPECT_EQ(n1["name"], "n1");
  EXPECT_EQ(n1["node-ip"], "192.0.2.1");
  EXPECT_EQ(n1["health-ip"], "10.233.64.5");
  EXPECT_EQ(n1["host"]["primary-address"]["icmp"]["status"], "ok");
  EXPECT_EQ(n1["host"]["primary-address"]["icmp"]["latency-ns"], 52000);
  EXPECT_EQ(n1["host"]["secondary-addresses"][0]["ip"], "2001:db8::1");
  const auto& n2 = j["nodes"][1];
  EXPECT_EQ(n2["reachable"], false);
  EXPECT_EQ(n2["health-endpoint"], nullptr);
  EXPECT_EQ(n2["host"]["primary-address"]["http"]["status"], "unreachable");
  EXPECT_EQ(n2["host"]["primary-address"]["http"]["error"], "connect: No route to host");
}

TEST(HealthReport, JsonRoundTrips) {
  auto r = sample();
  auto back = report_from_json(to_json(r));
  EXPECT_EQ(to_json(back), to_json(r));
  EXPECT_EQ(back.nodes[0].host.size(), 2u);
  EXPECT_EQ(back.nodes[1].host[0].icmp.error, "no echo reply within 2000ms");
}

TEST(HealthReport, BadJsonNamesTheField) {
  auto j = to_json(sample());
  j["nodes"][1]["host"]["primary-address"]["icmp"]["status"] = "maybe";
  try {
    report_from_json(j);
    FAIL() << "accepted a bad status";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(".nodes[1].host.primary-address.icmp.status"), std::string::npos) << e.what();
  }
  j = to_json(sample());
  j["nodes"][0]["host"]["primary-address"]["ip"] = "300.1.1.1";
  EXPECT_THROW(report_from_json(j), std::invalid_argument);
  EXPECT_THROW(report_from_json(nlohmann::json::array()), std::invalid_argument);
}
