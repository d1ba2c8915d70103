#include "agent/metrics_setup.h"

#include <ciliumpp/abi.h>

#include <filesystem>

#include "datapath/metrics_map.h"

namespace cpp::agent {

AgentMetricsRuntime::AgentMetricsRuntime(AgentMetricsDeps deps) : policy_(deps.policy) {
  if (auto it = deps.cfg.raw.values.find("prometheus-serve-addr"); it != deps.cfg.raw.values.end())
    addr_ = it->second;
  AgentMetricsSources src;
  src.version = deps.version;
  auto& eps = deps.endpoints;
  src.endpoints = [&eps] { return eps.list(); };
  src.identities = &deps.identities;
  auto& policy = deps.policy;
  src.policy_rules = [&policy] {
    size_t n = 0;
    auto all = policy.policies_json();
    for (const auto& p : all["policies"]) n += p.value("rules", size_t{0});
    return n;
  };
  // The revision the datapath enforces: the engine's, once flushed (cheap to read).
  src.policy_revision = [&policy] { return policy.realized_revision(); };
  src.pin_dir = deps.cfg.pin_dir();
  src.datapath_counters = [pin_dir = deps.cfg.pin_dir()] {
    std::vector<DatapathCounter> out;
    // Absent until the programs that own it are loaded.
    if (!std::filesystem::exists(pin_dir + "/" CPP_MAP_METRICS)) return out;
    for (const auto& e : datapath::MetricsMap(pin_dir).dump()) out.push_back({e.reason, e.dir, e.packets, e.bytes});
    return out;
  };
  src.drop_reason_text = std::move(deps.drop_reason_text);
  metrics_ = std::make_unique<AgentMetrics>(registry_, std::move(src));
  auto* m = metrics_.get();
  policy_.set_change_observer([m](bool ok) { m->policy_change(ok); });
}

AgentMetricsRuntime::~AgentMetricsRuntime() {
  stop();
  policy_.set_change_observer(nullptr);
}

void AgentMetricsRuntime::start() {
  if (addr_.empty() || server_) return;
  server_ = std::make_unique<metrics::MetricsServer>(addr_, registry_);
  server_->start();
}

void AgentMetricsRuntime::stop() {
  if (server_) server_->stop();
}

}  // namespace cpp::agent
