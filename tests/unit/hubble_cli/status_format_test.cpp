#include "hubble_cli/status_format.h"

#include <gtest/gtest.h>

using namespace cpp::hubble_cli;

TEST(StatusFormat, Status) {
  observer::ServerStatusResponse s;
  s.set_num_flows(12);
  s.set_max_flows(4095);
  s.set_seen_flows(100);
  s.set_uptime_ns(50'000'000'000ULL);
  s.mutable_num_connected_nodes()->set_value(1);
  EXPECT_EQ(format_healthcheck("unix:///var/run/cilium/hubble.sock", "Ok"),
            "Healthcheck (via unix:///var/run/cilium/hubble.sock): Ok\n");
  EXPECT_EQ(format_healthcheck("tls://node-a:4244", "Unavailable: NOT_SERVING"),
            "Healthcheck (via tls://node-a:4244): Unavailable: NOT_SERVING\n");
  EXPECT_EQ(format_server_status(s),
            "Current/Max Flows: 12/4,095 (0.29%)\n"
            "Flows/s: 2.00\n"
            "Connected Nodes: 1/1\n");
}

TEST(StatusFormat, Nodes) {
  observer::GetNodesResponse n;
  auto* node = n.add_nodes();
  node->set_name("node-a");
  node->set_state(relay::NODE_CONNECTED);
  node->set_uptime_ns(3723'000'000'000ULL);
  node->set_num_flows(4095);
  node->set_max_flows(4095);
  node->set_seen_flows(7446);
  EXPECT_EQ(format_nodes(n),
            "NAME     STATUS      AGE      FLOWS/S   CURRENT/MAX-FLOWS\n"
            "node-a   Connected   1h2m3s   2.00      4,095/4,095 (100.00%)\n");
}

TEST(StatusFormat, Numbers) {
  EXPECT_EQ(thousands(0), "0");
  EXPECT_EQ(thousands(999), "999");
  EXPECT_EQ(thousands(1234567), "1,234,567");
  EXPECT_EQ(go_duration(59'000'000'000ULL), "59s");
  EXPECT_EQ(go_duration(60'000'000'000ULL), "1m0s");
}
