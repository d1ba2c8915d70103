#include <gtest/gtest.h>

#include "config/duration.h"
#include "health/format.h"

using namespace cpp;
using namespace cpp::health;

TEST(HealthFormat, GoDurationStrings) {
  EXPECT_EQ(format_go_duration(0), "0s");
  EXPECT_EQ(format_go_duration(850), "850ns");
  EXPECT_EQ(format_go_duration(1000), "1µs");
  EXPECT_EQ(format_go_duration(296417), "296.417µs");
  EXPECT_EQ(format_go_duration(1500000), "1.5ms");
  EXPECT_EQ(format_go_duration(2000000000), "2s");
  EXPECT_EQ(format_go_duration(90500000000), "1m30.5s");
  EXPECT_EQ(format_go_duration(3600000000000), "1h0m0s");
  EXPECT_EQ(format_go_duration(-1500), "-1.5µs");
}

TEST(HealthFormat, ParsesGoDurations) {
  using namespace std::chrono;
  EXPECT_EQ(config::parse_go_duration("0"), nanoseconds(0));
  EXPECT_EQ(config::parse_go_duration("500ms"), milliseconds(500));
  EXPECT_EQ(config::parse_go_duration("1.5s"), milliseconds(1500));
  EXPECT_EQ(config::parse_go_duration("1m30s"), seconds(90));
  EXPECT_EQ(config::parse_go_duration("2h"), hours(2));
  EXPECT_EQ(config::parse_go_duration("10us"), microseconds(10));
  EXPECT_EQ(config::parse_go_duration("10µs"), microseconds(10));
  for (const char* bad : {"", "5", "s", "1x", "1.2.3s", "-1s", "1s "}) EXPECT_THROW(config::parse_go_duration(bad), std::invalid_argument) << bad;
}

TEST(HealthFormat, Rfc3339) { EXPECT_EQ(format_rfc3339(1700000000123), "2023-11-14T22:13:20Z"); }

TEST(HealthFormat, StatusTableSummarisesAndListsEveryNode) {
  HealthReport r;
  r.local_node = "n1";
  r.probe_time_ms = 1700000000123;
  NodeHealth a{"n1", true, {}, {}};
  a.host.push_back({*IpAddr::parse("192.0.2.1"), ProbeResult::ok(52000), ProbeResult::ok(301500)});
  a.host.push_back({*IpAddr::parse("2001:db8::1"), ProbeResult::ok(61000), ProbeResult::ok(402000)});
  a.endpoint.push_back({*IpAddr::parse("10.233.64.5"), ProbeResult::ok(70000), ProbeResult::ok(350000)});
  NodeHealth b{"n2", false, {}, {}};
  b.host.push_back({*IpAddr::parse("192.0.2.99"), ProbeResult::failed("no echo reply within 2000ms"),
                    ProbeResult::failed("connect: No route to host")});
  r.nodes = {a, b};
  auto out = format_status(r);
  EXPECT_EQ(out,
            "Cluster health:   1/2 reachable   (2023-11-14T22:13:20Z)\n"
            "Probe time:   2023-11-14T22:13:20Z\n"
            "Nodes:\n"
            "  n1 (localhost):\n"
            "    Host connectivity to 192.0.2.1:\n"
            "      ICMP to stack:   OK, RTT=52µs\n"
            "      HTTP to agent:   OK, RTT=301.5µs\n"
            "    Endpoint connectivity to 10.233.64.5:\n"
            "      ICMP to stack:   OK, RTT=70µs\n"
            "      HTTP to agent:   OK, RTT=350µs\n"
            "  n2:\n"
            "    Host connectivity to 192.0.2.99:\n"
            "      ICMP to stack:   no echo reply within 2000ms\n"
            "      HTTP to agent:   connect: No route to host\n");
  auto verbose = format_status(r, true);
  EXPECT_NE(verbose.find("Host (secondary) connectivity to 2001:db8::1:"), std::string::npos) << verbose;
}

TEST(HealthFormat, BeforeTheFirstRound) {
  HealthReport r;
  EXPECT_EQ(format_status(r), "Cluster health:   no probe has finished yet\n");
}
