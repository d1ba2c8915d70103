#include <gtest/gtest.h>

#include "dbg/format.h"
#include "health/report.h"

using nlohmann::json;

TEST(DbgFormat, TableAlignsColumns) {
  auto t = cpp::dbg::render_table({"A", "LONGER"}, {{"xxxx", "1"}, {"y", "22"}});
  EXPECT_EQ(t, "A     LONGER\nxxxx  1\ny     22\n");
}

TEST(DbgFormat, EndpointListShowsIdsAddressesAndLabels) {
  json eps = json::array({{{"id", 12},
                           {"identity", 0},
                           {"labels", {{"k8s:app", "web"}}},
                           {"addressing", {{"ipv4", "10.233.64.2"}, {"ipv6", "fd00::2"}}},
                           {"state", "ready"},
                           {"k8s-namespace", "default"},
                           {"k8s-pod-name", "web-0"}}});
  auto out = cpp::dbg::format_endpoint_list(eps);
  EXPECT_NE(out.find("ENDPOINT"), std::string::npos);
  EXPECT_NE(out.find("k8s:app=web"), std::string::npos);
  EXPECT_NE(out.find("10.233.64.2"), std::string::npos);
  EXPECT_NE(out.find("default/web-0"), std::string::npos);
}

TEST(DbgFormat, BpfEndpointListMarksHostEntries) {
  json entries = json::array({{{"address", "10.233.64.1"}, {"host", true}},
                              {{"address", "10.233.64.2"}, {"host", false}, {"id", 3}, {"ifindex", 9}}});
  auto out = cpp::dbg::format_bpf_endpoint_list(entries);
  EXPECT_NE(out.find("(localhost)"), std::string::npos);
  EXPECT_NE(out.find("id=3"), std::string::npos);
  EXPECT_NE(out.find("ifindex=9"), std::string::npos);
}

TEST(DbgFormat, StatusShowsKvstoreMasqueradingAndClusterHealth) {
  json status{{"cluster-name", "lab"},
              {"node-name", "node1"},
              {"state", "Ok"},
              {"kvstore",
               {{"type", "etcd"},
                {"state", "Ok"},
                {"connected", 2},
                {"endpoints", {"http://192.0.2.3:2379", "http://192.0.2.4:2379", "http://192.0.2.5:2379"}}}},
              {"masquerading", json::array({{{"device", "eth0"}, {"ipv4", "192.0.2.11"}, {"ipv6", "2001:db8::11"}}})}};
  cpp::health::HealthReport r;
  r.local_node = "node1";
  r.probe_time_ms = 1'700'000'000'000;
  auto ok = cpp::health::ProbeResult::ok(1000);
  auto down = cpp::health::ProbeResult::failed("timeout");
  r.nodes.push_back({"node1", true, {{*cpp::IpAddr::parse("192.0.2.11"), ok, ok}}, {}});
  r.nodes.push_back({"node2", false, {{*cpp::IpAddr::parse("192.0.2.12"), down, ok}}, {}});
  auto out = cpp::dbg::format_status(status, cpp::health::to_json(r));
  EXPECT_NE(out.find("KVStore:                 Ok   etcd: 2/3 connected: http://192.0.2.3:2379, "), std::string::npos)
      << out;
  EXPECT_NE(out.find("Masquerading:            BPF   [eth0 192.0.2.11 2001:db8::11]"), std::string::npos) << out;
  EXPECT_NE(out.find("Cluster health:          1/2 reachable"), std::string::npos) << out;
}

TEST(DbgFormat, StatusWithoutEtcdOrHealth) {
  json status{{"state", "Ok"},
              {"kvstore", {{"type", "directory"}, {"dir", "/var/run/cilium/store"}}},
              {"masquerading", json::array()}};
  auto out = cpp::dbg::format_status(status);
  EXPECT_NE(out.find("KVStore:                 Disabled   (store directory /var/run/cilium/store)"), std::string::npos);
  EXPECT_NE(out.find("Masquerading:            Disabled"), std::string::npos);
  EXPECT_EQ(out.find("Cluster health"), std::string::npos);
}
