#pragma once
// The agent's metrics as the daemon wires them: one registry, the
// collectors over the agent's subsystems (metrics_agent.h) and the /metrics
// server on prometheus-serve-addr (none when the key is empty, as upstream).
#include <memory>
#include <string>

#include "agent/metrics_agent.h"
#include "agent/policy_subsystem.h"
#include "config/agent_config.h"
#include "endpoint/manager.h"
#include "identity/identity.h"
#include "metrics/registry.h"
#include "metrics/server.h"

namespace cpp::agent {

struct AgentMetricsDeps {
  const config::AgentConfig& cfg;
  endpoint::Manager& endpoints;
  identity::IdentityAllocator& identities;
  PolicySubsystem& policy;
  std::string version;
  DropReasonText drop_reason_text;  // hubble::drop_reason_text; empty = reasons by number
};

class AgentMetricsRuntime {
 public:
  // Registers every metric; the policy subsystem starts reporting changes.
  // Drop and forward counters come from the pinned cpp_metrics map. Stop
  // the subsystems that write maps or report flows before destroying it.
  explicit AgentMetricsRuntime(AgentMetricsDeps deps);
  ~AgentMetricsRuntime();

  // Serves /metrics when prometheus-serve-addr is set. Throws
  // std::runtime_error when the address cannot be bound.
  void start();
  void stop();

  AgentMetrics& metrics() { return *metrics_; }
  metrics::Registry& registry() { return registry_; }
  int port() const { return server_ ? server_->port() : 0; }  // 0 = not serving

 private:
  PolicySubsystem& policy_;
  std::string addr_;
  metrics::Registry registry_;
  std::unique_ptr<AgentMetrics> metrics_;
  std::unique_ptr<metrics::MetricsServer> server_;
};

}  // namespace cpp::agent
