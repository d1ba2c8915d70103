#include "agent/metrics_agent.h"

#include <chrono>
#include <map>

#include "agent/metrics_bpf.h"
#include "metrics/process.h"

namespace cpp::agent {

namespace {

using metrics::FamilySnapshot;
using metrics::Sample;
using metrics::Type;

FamilySnapshot one(const char* name, const char* help, double v) {
  return FamilySnapshot{name, help, Type::Gauge, {Sample{{}, v, ""}}};
}

std::vector<FamilySnapshot> endpoint_families(const std::vector<endpoint::Endpoint>& eps) {
  std::map<std::string, size_t> by_state{{"ready", 0}};
  for (const auto& ep : eps) ++by_state[ep.state];
  FamilySnapshot states{"cilium_endpoint_state", "Count of all endpoints, tagged by different endpoint states",
                        Type::Gauge, {}};
  for (const auto& [s, n] : by_state) states.samples.push_back({{{"endpoint_state", s}}, static_cast<double>(n), ""});
  return {one("cilium_endpoint", "Number of endpoints managed by this agent", static_cast<double>(eps.size())),
          std::move(states)};
}

FamilySnapshot identity_family(const identity::IdentityAllocator& ids) {
  // Upstream's identity types: reserved, cluster_local (labels -> id shared
  // by the cluster), node_local (CIDR identities).
  std::map<std::string, size_t> by_type{{"reserved", 0}, {"cluster_local", 0}, {"node_local", 0}};
  for (const auto& r : ids.list(true)) {
    if (identity::is_reserved(r.id))
      ++by_type["reserved"];
    else if (identity::is_local_scope(r.id))
      ++by_type["node_local"];
    else
      ++by_type["cluster_local"];
  }
  FamilySnapshot f{"cilium_identity", "Number of identities currently allocated", Type::Gauge, {}};
  for (const auto& [t, n] : by_type) f.samples.push_back({{{"type", t}}, static_cast<double>(n), ""});
  return f;
}

const char* host_arch() {
#if defined(__x86_64__)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#else
  return "unknown";
#endif
}

}  // namespace

std::string api_short_path(std::string_view path) {
  // Keep up to (not including) the third '/': "/v1/endpoint/12" -> "/v1/endpoint".
  size_t pos = 0;
  for (int slash = 0; slash < 3; ++slash) {
    auto next = path.find('/', pos);
    if (next == std::string_view::npos) return std::string(path);
    pos = next + 1;
  }
  return std::string(path.substr(0, pos - 1));
}

std::string trace_point_name(int point) {
  static const char* const names[] = {"to-endpoint",   "to-proxy",   "to-host",     "to-stack",
                                      "to-overlay",    "from-endpoint", "from-proxy", "from-host",
                                      "from-stack",    "from-overlay", "from-network", "to-network"};
  if (point >= 0 && point < 12) return names[point];
  if (point == 101) return "to-endpoint";  // flow.TraceObservationPoint TO_ENDPOINT
  return std::to_string(point);
}

const char* verdict_label(uint8_t verdict) {
  static const char* const names[] = {"VERDICT_UNKNOWN", "FORWARDED", "DROPPED",    "ERROR",
                                      "AUDIT",           "REDIRECTED", "TRACED",    "TRANSLATED"};
  return verdict < 8 ? names[verdict] : "VERDICT_UNKNOWN";
}

AgentMetrics::AgentMetrics(metrics::Registry& registry, AgentMetricsSources src)
    : flow_cache_(std::make_unique<std::array<std::atomic<metrics::Counter*>, 4 * 256 * 8>>()) {
  for (auto& c : *flow_cache_) c.store(nullptr, std::memory_order_relaxed);
  api_time_ = &registry.histogram("cilium_agent_api_process_time_seconds",
                                   "Duration of processed API calls labeled by path, method and return code.",
                                   {"path", "method", "return_code"});
  policy_changes_ = &registry.counter("cilium_policy_change_total", "Number of policy changes by outcome", {"outcome"});
  policy_changes_->with({"success"});
  policy_changes_->with({"fail"});
  flows_ = &registry.counter("hubble_flows_processed_total", "Total number of flows processed",
                              {"type", "subtype", "verdict"});
  lost_ = &registry.counter("hubble_lost_events_total", "Number of lost events", {"source"});
  for (auto s : {kLostPerfRingBuffer, kLostHubbleRingBuffer, kLostObserverQueue}) lost_->with({s});

  auto& version = registry.gauge("cilium_version", "Cilium version", {"version", "revision", "arch"});
  version.with({src.version, src.revision, host_arch()}).set(1);

  auto& ops = registry.counter("cilium_bpf_map_ops_total", "Total operations on map, tagged by map name",
                                {"map_name", "operation", "outcome"});
  map_ops_ = std::make_unique<MapOpCounter>(ops);
  datapath::set_map_op_observer(map_ops_.get());

  if (src.endpoints) {
    auto eps = src.endpoints;
    registry.add_collector([eps] { return endpoint_families(eps()); });
  }
  if (src.identities) {
    auto* ids = src.identities;
    registry.add_collector([ids] { return std::vector<FamilySnapshot>{identity_family(*ids)}; });
  }
  if (src.policy_rules || src.policy_revision) {
    auto rules = src.policy_rules;
    auto revision = src.policy_revision;
    registry.add_collector([rules, revision] {
      std::vector<FamilySnapshot> out;
      if (rules) out.push_back(one("cilium_policy", "Number of policies currently loaded", static_cast<double>(rules())));
      if (revision)
        out.push_back(one("cilium_policy_max_revision", "Highest policy revision number in the agent",
                          static_cast<double>(revision())));
      return out;
    });
  }
  if (!src.pin_dir.empty()) {
    pressure_ = std::make_shared<MapPressure>(src.pin_dir, src.pressure_interval);
    auto p = pressure_;
    registry.add_collector([p] { return std::vector<FamilySnapshot>{p->collect()}; });
  }
  if (src.datapath_counters) {
    auto read = src.datapath_counters;
    auto text = src.drop_reason_text;
    registry.add_collector([read, text] { return datapath_families(read(), text); });
  }
  metrics::add_process_collector(registry, "cilium");
}

AgentMetrics::~AgentMetrics() { datapath::set_map_op_observer(nullptr); }

api::UnixHttpServer::Handler AgentMetrics::instrument_api(api::UnixHttpServer::Handler inner) {
  auto* family = api_time_;
  return [family, inner = std::move(inner)](const api::HttpRequest& req) {
    auto start = std::chrono::steady_clock::now();
    auto record = [&](int status) {
      std::chrono::duration<double> d = std::chrono::steady_clock::now() - start;
      family->with({api_short_path(req.path), req.method, std::to_string(status)}).observe(d.count());
    };
    try {
      auto resp = inner(req);
      record(resp.status);
      return resp;
    } catch (...) {
      record(500);  // the server answers 500 for a handler that throws
      throw;
    }
  };
}

void AgentMetrics::policy_change(bool ok) { policy_changes_->with({ok ? "success" : "fail"}).inc(); }

void AgentMetrics::flow_processed(int event_type, int sub_type, uint8_t verdict) {
  int kind = event_type == 1 ? 1 : event_type == 4 ? 2 : event_type == 5 ? 3 : 0;
  size_t sub = kind == 2 ? static_cast<uint8_t>(sub_type) : kind == 0 ? static_cast<uint8_t>(event_type) : 0;
  if (verdict >= 8) verdict = 0;
  size_t idx = (static_cast<size_t>(kind) * 256 + sub) * 8 + verdict;
  auto& slot = (*flow_cache_)[idx];
  if (auto* c = slot.load(std::memory_order_acquire)) {
    c->inc();
    return;
  }
  static const char* const types[] = {"Unknown", "Drop", "Trace", "PolicyVerdict"};
  std::string subtype = kind == 2 ? trace_point_name(sub_type) : kind == 0 ? std::to_string(event_type) : "";
  auto* c = &flows_->with({types[kind], subtype, verdict_label(verdict)});
  slot.store(c, std::memory_order_release);
  c->inc();
}

void AgentMetrics::lost_events(std::string_view source, uint64_t n) {
  if (n > 0) lost_->with({source}).inc(static_cast<double>(n));
}

}  // namespace cpp::agent
