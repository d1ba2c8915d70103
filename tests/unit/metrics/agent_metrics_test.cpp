// The agent's collectors against the real identity allocator and (as root)
// real pinned BPF maps; the endpoint, policy and datapath sources are plain
// functions, as the daemon supplies them.
#include <gtest/gtest.h>

#include <bpf/bpf.h>
#include <ciliumpp/abi.h>
#include <unistd.h>

#include <filesystem>

#include "agent/metrics_agent.h"
#include "agent/metrics_bpf.h"
#include "agent/metrics_datapath.h"
#include "common/ip.h"
#include "datapath/pinned_map.h"
#include "metrics/registry.h"

using namespace cpp;
using namespace cpp::agent;
namespace fs = std::filesystem;

namespace {

bool has(const std::string& text, const std::string& line) { return text.find(line) != std::string::npos; }

endpoint::Endpoint ep(uint16_t id, const std::string& state) {
  endpoint::Endpoint e;
  e.id = id;
  e.state = state;
  return e;
}

// A directory of pinned maps under the project's bpffs prefix, removed on exit.
struct PinDir {
  std::string path;
  PinDir() {
    path = "/sys/fs/bpf/ciliumpp/unit-metrics-" + std::to_string(::getpid());
    fs::create_directories(path);
  }
  ~PinDir() { fs::remove_all(path); }
  int create(const std::string& name, bpf_map_type type, uint32_t key, uint32_t value, uint32_t max) {
    LIBBPF_OPTS(bpf_map_create_opts, opts);
    if (type == BPF_MAP_TYPE_LPM_TRIE) opts.map_flags = BPF_F_NO_PREALLOC;
    int fd = bpf_map_create(type, name.c_str(), key, value, max, &opts);
    if (fd < 0) return fd;
    if (bpf_obj_pin(fd, (path + "/" + name).c_str()) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }
};

bool can_use_bpffs() { return ::geteuid() == 0 && fs::exists("/sys/fs/bpf"); }

}  // namespace

TEST(AgentMetricsDatapath, AggregatesDropsAndForwardsWithUpstreamLabels) {
  std::vector<DatapathCounter> dump{{0, CPP_METRIC_INGRESS, 10, 1000}, {0, CPP_METRIC_EGRESS, 5, 500},
                                    {CPP_DROP_POLICY, CPP_METRIC_INGRESS, 3, 180},
                                    {CPP_DROP_POLICY_DENY, CPP_METRIC_EGRESS, 2, 120},
                                    {CPP_DROP_POLICY, CPP_METRIC_INGRESS, 1, 60}};
  auto text_of = [](uint8_t r) { return r == CPP_DROP_POLICY ? std::string("Policy denied") : "Policy denied by denylist"; };
  metrics::Registry reg;
  reg.add_collector([&] { return datapath_families(dump, text_of); });
  auto text = reg.render();
  EXPECT_TRUE(has(text, "cilium_drop_count_total{reason=\"Policy denied\",direction=\"INGRESS\"} 4\n")) << text;
  EXPECT_TRUE(has(text, "cilium_drop_bytes_total{reason=\"Policy denied\",direction=\"INGRESS\"} 240\n")) << text;
  EXPECT_TRUE(has(text, "cilium_drop_count_total{reason=\"Policy denied by denylist\",direction=\"EGRESS\"} 2\n"));
  EXPECT_TRUE(has(text, "cilium_forward_count_total{direction=\"INGRESS\"} 10\n")) << text;
  EXPECT_TRUE(has(text, "cilium_forward_bytes_total{direction=\"EGRESS\"} 500\n")) << text;
  EXPECT_TRUE(has(text, "# TYPE cilium_forward_count_total counter\n")) << text;
  // Without a text function the reason is its number.
  auto fams = datapath_families({{CPP_DROP_INVALID, 0, 1, 1}}, nullptr);
  ASSERT_EQ(fams[0].samples.size(), 1u);
  EXPECT_EQ(fams[0].samples[0].labels[0].second, "134");
  EXPECT_EQ(fams[0].samples[0].labels[1].second, "UNKNOWN");
}

TEST(AgentMetricsNames, ApiPathTraceAndVerdictLabels) {
  EXPECT_EQ(api_short_path("/v1/endpoint/12"), "/v1/endpoint");
  EXPECT_EQ(api_short_path("/v1/endpoint/container-id:abc"), "/v1/endpoint");
  EXPECT_EQ(api_short_path("/v1/config"), "/v1/config");
  EXPECT_EQ(api_short_path("/v1/policy/trace"), "/v1/policy");
  EXPECT_EQ(api_short_path("/healthz"), "/healthz");
  EXPECT_EQ(trace_point_name(CPP_OBS_TO_ENDPOINT), "to-endpoint");
  EXPECT_EQ(trace_point_name(CPP_OBS_TO_STACK), "to-stack");
  EXPECT_EQ(trace_point_name(CPP_OBS_FROM_NETWORK), "from-network");
  EXPECT_STREQ(verdict_label(2), "DROPPED");
  EXPECT_STREQ(verdict_label(200), "VERDICT_UNKNOWN");
}

TEST(AgentMetrics, EndpointsIdentitiesPolicyAndVersionAtScrapeTime) {
  std::vector<endpoint::Endpoint> eps{ep(1, "ready"), ep(2, "ready"), ep(3, "regenerating")};
  identity::LocalAllocator ids;
  ids.allocate(labels::LabelSet::parse({"k8s:app=web"}), "endpoint:1");
  ids.allocate(labels::LabelSet::parse({"k8s:app=db"}), "endpoint:2");
  ids.allocate_cidr(*IpPrefix::parse("10.1.0.0/16"), "policy");
  size_t rules = 4;
  uint64_t revision = 7;
  metrics::Registry reg;
  AgentMetricsSources src;
  src.version = "1.16.0-cpp";
  src.endpoints = [&] { return eps; };
  src.identities = &ids;
  src.policy_rules = [&] { return rules; };
  src.policy_revision = [&] { return revision; };
  AgentMetrics m(reg, src);
  auto text = reg.render();
  EXPECT_TRUE(has(text, "cilium_endpoint 3\n")) << text;
  EXPECT_TRUE(has(text, "cilium_endpoint_state{endpoint_state=\"ready\"} 2\n")) << text;
  EXPECT_TRUE(has(text, "cilium_endpoint_state{endpoint_state=\"regenerating\"} 1\n")) << text;
  EXPECT_TRUE(has(text, "cilium_identity{type=\"cluster_local\"} 2\n")) << text;
  EXPECT_TRUE(has(text, "cilium_identity{type=\"node_local\"} 1\n")) << text;
  auto reserved = identity::reserved_identities().size();
  EXPECT_TRUE(has(text, "cilium_identity{type=\"reserved\"} " + std::to_string(reserved) + "\n")) << text;
  EXPECT_TRUE(has(text, "cilium_policy 4\n")) << text;
  EXPECT_TRUE(has(text, "cilium_policy_max_revision 7\n")) << text;
  EXPECT_TRUE(has(text, "cilium_version{version=\"1.16.0-cpp\",revision=\"\",arch=")) << text;
  EXPECT_TRUE(has(text, "cilium_process_resident_memory_bytes ")) << text;
  EXPECT_TRUE(has(text, "hubble_lost_events_total{source=\"perf_event_ring_buffer\"} 0\n")) << text;

  eps.pop_back();
  ids.release_user("endpoint:2");
  rules = 0;
  revision = 9;
  m.policy_change(true);
  m.policy_change(false);
  m.policy_change(true);
  text = reg.render();
  EXPECT_TRUE(has(text, "cilium_endpoint 2\n")) << text;
  EXPECT_TRUE(has(text, "cilium_endpoint_state{endpoint_state=\"regenerating\"}") == false) << text;
  EXPECT_TRUE(has(text, "cilium_identity{type=\"cluster_local\"} 1\n")) << text;
  EXPECT_TRUE(has(text, "cilium_policy 0\n")) << text;
  EXPECT_TRUE(has(text, "cilium_policy_max_revision 9\n")) << text;
  EXPECT_TRUE(has(text, "cilium_policy_change_total{outcome=\"success\"} 2\n")) << text;
  EXPECT_TRUE(has(text, "cilium_policy_change_total{outcome=\"fail\"} 1\n")) << text;
}

TEST(AgentMetrics, ApiLatencyByShortPathMethodAndCode) {
  metrics::Registry reg;
  AgentMetrics m(reg, {});
  auto handler = m.instrument_api([](const api::HttpRequest& req) -> api::HttpResponse {
    if (req.path == "/v1/boom") throw std::runtime_error("boom");
    if (req.path.rfind("/v1/endpoint/", 0) == 0) return {404, "{}"};
    return {200, "{}"};
  });
  handler({"GET", "/v1/endpoint/12", "", ""});
  handler({"GET", "/v1/endpoint/13", "", ""});
  handler({"GET", "/v1/config", "", ""});
  EXPECT_THROW(handler({"PUT", "/v1/boom", "", ""}), std::runtime_error);
  auto text = reg.render();
  EXPECT_TRUE(has(text, "# TYPE cilium_agent_api_process_time_seconds histogram\n")) << text;
  EXPECT_TRUE(has(text, "cilium_agent_api_process_time_seconds_count{path=\"/v1/endpoint\",method=\"GET\",return_code=\"404\"} 2\n")) << text;
  EXPECT_TRUE(has(text, "cilium_agent_api_process_time_seconds_count{path=\"/v1/config\",method=\"GET\",return_code=\"200\"} 1\n")) << text;
  EXPECT_TRUE(has(text, "cilium_agent_api_process_time_seconds_bucket{path=\"/v1/boom\",method=\"PUT\",return_code=\"500\",le=\"+Inf\"} 1\n")) << text;
}

TEST(AgentMetrics, HubbleFlowsAndLostEvents) {
  metrics::Registry reg;
  AgentMetrics m(reg, {});
  for (int i = 0; i < 3; ++i) m.flow_processed(4, CPP_OBS_TO_ENDPOINT, 1);
  m.flow_processed(1, CPP_DROP_POLICY, 2);
  m.flow_processed(5, 0, 2);
  m.flow_processed(5, 0, 4);
  m.lost_events(kLostPerfRingBuffer, 5);
  m.lost_events(kLostHubbleRingBuffer, 0);
  m.lost_events(kLostPerfRingBuffer, 2);
  auto text = reg.render();
  EXPECT_TRUE(has(text, "hubble_flows_processed_total{type=\"Trace\",subtype=\"to-endpoint\",verdict=\"FORWARDED\"} 3\n")) << text;
  EXPECT_TRUE(has(text, "hubble_flows_processed_total{type=\"Drop\",subtype=\"\",verdict=\"DROPPED\"} 1\n")) << text;
  EXPECT_TRUE(has(text, "hubble_flows_processed_total{type=\"PolicyVerdict\",subtype=\"\",verdict=\"DROPPED\"} 1\n")) << text;
  EXPECT_TRUE(has(text, "hubble_flows_processed_total{type=\"PolicyVerdict\",subtype=\"\",verdict=\"AUDIT\"} 1\n")) << text;
  EXPECT_TRUE(has(text, "hubble_lost_events_total{source=\"perf_event_ring_buffer\"} 7\n")) << text;
  EXPECT_TRUE(has(text, "hubble_lost_events_total{source=\"hubble_ring_buffer\"} 0\n")) << text;
}

TEST(AgentMetricsBpf, PressureOfRealPinnedMapsIsCachedForTheInterval) {
  if (!can_use_bpffs()) GTEST_SKIP() << "needs root and bpffs";
  PinDir dir;
  int ct = dir.create(CPP_MAP_CT4, BPF_MAP_TYPE_LRU_HASH, 8, 8, 64);
  int lpm = dir.create(CPP_MAP_IPCACHE, BPF_MAP_TYPE_LPM_TRIE, 8, 8, 16);
  int arr = dir.create(CPP_MAP_POLICY, BPF_MAP_TYPE_ARRAY, 4, 8, 8);  // arrays are always "full": skipped
  ASSERT_GE(ct, 0);
  ASSERT_GE(lpm, 0);
  ASSERT_GE(arr, 0);
  for (uint64_t k = 0; k < 16; ++k) ASSERT_EQ(bpf_map_update_elem(ct, &k, &k, BPF_ANY), 0);
  for (uint32_t i = 0; i < 4; ++i) {
    struct {
      uint32_t prefixlen;
      uint32_t addr;
    } key{32, i};
    uint64_t v = i;
    ASSERT_EQ(bpf_map_update_elem(lpm, &key, &v, BPF_ANY), 0);
  }
  metrics::Registry reg;
  AgentMetricsSources src;
  src.pin_dir = dir.path;
  src.pressure_interval = std::chrono::hours(1);
  AgentMetrics m(reg, src);
  auto text = reg.render();
  EXPECT_TRUE(has(text, "cilium_bpf_map_pressure{map_name=\"cpp_ct4\"} 0.25\n")) << text;
  EXPECT_TRUE(has(text, "cilium_bpf_map_pressure{map_name=\"cpp_ipcache\"} 0.25\n")) << text;
  EXPECT_FALSE(has(text, "map_name=\"cpp_policy\"")) << text;
  EXPECT_FALSE(has(text, "map_name=\"cpp_ct6\"")) << text;  // not pinned: not reported
  // Within the interval the cached value stands.
  for (uint64_t k = 16; k < 32; ++k) ASSERT_EQ(bpf_map_update_elem(ct, &k, &k, BPF_ANY), 0);
  EXPECT_TRUE(has(reg.render(), "cilium_bpf_map_pressure{map_name=\"cpp_ct4\"} 0.25\n"));
  // A fresh collector (interval 0) recounts on every scrape.
  MapPressure live(dir.path, std::chrono::milliseconds(0));
  auto f = live.collect();
  live.collect();
  EXPECT_EQ(live.recounts(), 2u);
  bool found = false;
  for (const auto& s : f.samples)
    if (s.labels[0].second == "cpp_ct4") {
      found = true;
      EXPECT_DOUBLE_EQ(s.value, 0.5);
    }
  EXPECT_TRUE(found);
  ::close(ct);
  ::close(lpm);
  ::close(arr);
}

TEST(AgentMetricsBpf, PinnedMapWritesAreCountedByOutcome) {
  if (!can_use_bpffs()) GTEST_SKIP() << "needs root and bpffs";
  PinDir dir;
  int fd = dir.create("cpp_lb_svc", BPF_MAP_TYPE_HASH, 4, 4, 2);
  ASSERT_GE(fd, 0);
  metrics::Registry reg;
  {
    AgentMetrics m(reg, {});
    datapath::PinnedMap map(dir.path + "/cpp_lb_svc", 4, 4);
    uint32_t k = 1, v = 1;
    map.update(&k, &v);
    k = 2;
    map.update(&k, &v);
    k = 3;
    EXPECT_THROW(map.update(&k, &v), std::runtime_error);  // full: E2BIG
    EXPECT_TRUE(map.remove(&k) == false);                   // absent: still a successful delete
    k = 1;
    EXPECT_TRUE(map.remove(&k));
    auto text = reg.render();
    EXPECT_TRUE(has(text, "cilium_bpf_map_ops_total{map_name=\"cpp_lb_svc\",operation=\"update\",outcome=\"success\"} 2\n")) << text;
    EXPECT_TRUE(has(text, "cilium_bpf_map_ops_total{map_name=\"cpp_lb_svc\",operation=\"update\",outcome=\"fail\"} 1\n")) << text;
    EXPECT_TRUE(has(text, "cilium_bpf_map_ops_total{map_name=\"cpp_lb_svc\",operation=\"delete\",outcome=\"success\"} 2\n")) << text;
  }
  // Once the metrics are gone, writes are no longer observed (and do not crash).
  datapath::PinnedMap map(dir.path + "/cpp_lb_svc", 4, 4);
  uint32_t k = 9, v = 9;
  map.update(&k, &v);
  ::close(fd);
}
