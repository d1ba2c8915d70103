#pragma once
// The agent's Prometheus metrics (upstream names, prometheus-serve-addr):
//   cilium_endpoint, cilium_endpoint_state{endpoint_state}       endpoint manager, at scrape
//   cilium_identity{type}                                          identity allocator, at scrape
//   cilium_policy, cilium_policy_max_revision                      policy subsystem, at scrape
//   cilium_policy_change_total{outcome}                            policy_change()
//   cilium_agent_api_process_time_seconds{path,method,return_code} instrument_api()
//   cilium_bpf_map_pressure{map_name}                              pinned maps, at scrape (cached)
//   cilium_bpf_map_ops_total{map_name,operation,outcome}           every PinnedMap update/delete
//   cilium_drop_count_total / cilium_drop_bytes_total{reason,direction},
//   cilium_forward_count_total / cilium_forward_bytes_total{direction}   cpp_metrics, at scrape
//   hubble_flows_processed_total{type,subtype,verdict}             flow_processed()
//   hubble_lost_events_total{source}                               lost_events()
//   cilium_version{version,revision,arch}, cilium_process_*
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/metrics_datapath.h"
#include "api/unix_http.h"
#include "endpoint/endpoint.h"
#include "identity/identity.h"
#include "metrics/registry.h"

namespace cpp::agent {

class MapPressure;
class MapOpCounter;

// What the collectors read. Every member may be left empty: its metrics
// are then not exported.
struct AgentMetricsSources {
  std::string version;   // cilium_version{version}
  std::string revision;  // cilium_version{revision}
  std::function<std::vector<endpoint::Endpoint>()> endpoints;
  const identity::IdentityAllocator* identities = nullptr;
  std::function<size_t()> policy_rules;        // rules (specs) of every policy in force
  std::function<uint64_t()> policy_revision;   // engine revision
  std::string pin_dir;                         // maps for cilium_bpf_map_pressure
  std::chrono::milliseconds pressure_interval{std::chrono::seconds(30)};  // recount at most this often
  DatapathCounterSource datapath_counters;      // cpp_metrics, summed over CPUs
  DropReasonText drop_reason_text;              // e.g. hubble::drop_reason_text
};

// Hubble's lost-event sources, as upstream labels them.
inline constexpr std::string_view kLostPerfRingBuffer = "perf_event_ring_buffer";
inline constexpr std::string_view kLostHubbleRingBuffer = "hubble_ring_buffer";
inline constexpr std::string_view kLostObserverQueue = "observer_events_queue";

class AgentMetrics {
 public:
  // Registers every family and collector in `registry` (which must outlive
  // this) and starts counting BPF map operations. Only one AgentMetrics may
  // exist at a time (the map operation hook is process-wide).
  AgentMetrics(metrics::Registry& registry, AgentMetricsSources sources);
  ~AgentMetrics();
  AgentMetrics(const AgentMetrics&) = delete;
  AgentMetrics& operator=(const AgentMetrics&) = delete;

  // Wraps the API handler: times every request into
  // cilium_agent_api_process_time_seconds (path cut after its second
  // segment, as upstream: /v1/endpoint/12 -> /v1/endpoint).
  api::UnixHttpServer::Handler instrument_api(api::UnixHttpServer::Handler inner);

  // cilium_policy_change_total{outcome="success"|"fail"}.
  void policy_change(bool ok);

  // One Hubble flow: event_type is the monitor type (1 drop, 4 trace, 5
  // policy verdict), sub_type the trace observation point, verdict
  // upstream's flow.Verdict number. Lock-free after the first flow of a kind.
  void flow_processed(int event_type, int sub_type, uint8_t verdict);
  void lost_events(std::string_view source, uint64_t n);

 private:
  metrics::HistogramFamily* api_time_ = nullptr;
  metrics::CounterFamily* policy_changes_ = nullptr;
  metrics::CounterFamily* flows_ = nullptr;
  metrics::CounterFamily* lost_ = nullptr;
  // (kind, sub type, verdict) -> counter; kind: 0 other, 1 drop, 2 trace, 3 policy verdict.
  std::unique_ptr<std::array<std::atomic<metrics::Counter*>, 4 * 256 * 8>> flow_cache_;
  std::shared_ptr<MapPressure> pressure_;
  std::unique_ptr<MapOpCounter> map_ops_;
};

// "/v1/endpoint/12" -> "/v1/endpoint" (upstream's getShortPath).
std::string api_short_path(std::string_view path);
// Upstream's monitor name of a trace observation point ("to-endpoint").
std::string trace_point_name(int point);
// Upstream flow.Verdict name ("FORWARDED").
const char* verdict_label(uint8_t verdict);

}  // namespace cpp::agent
