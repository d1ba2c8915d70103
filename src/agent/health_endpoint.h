#pragma once
// Node health in the agent (upstream cilium-health, run in-process):
//   owns    the health endpoint (namespace `health-netns`, lxc_health ↔ eth0,
//           IPAM owner "health", reserved identity 4), its HTTP responder on
//           port 4240, the node's own responder on its node addresses, and
//           the prober;
//   reads   CiliumNode objects (every other node's InternalIPs and health IPs);
//   serves  GET /v1/health/status and POST /v1/health/probe on the agent API.
// Nothing is removed on shutdown: like every endpoint, the health endpoint
// stays, and a restarted agent adopts it.
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/unix_http.h"
#include "common/ip.h"
#include "config/agent_config.h"
#include "endpoint/manager.h"
#include "health/prober.h"
#include "health/responder.h"
#include "ipam/node_ipam.h"
#include "netlink/rtnl.h"
#include "store/store.h"

namespace cpp::agent {

struct HealthDeps {
  const config::AgentConfig& cfg;
  Netlink& nl;
  ipam::NodeIpam& ipam;
  endpoint::Manager& endpoints;
  store::ResourceStore& store;
  std::vector<IpAddr> node_addresses;  // the node's underlay addresses
  int mtu = 1500;
};

class HealthSubsystem {
 public:
  explicit HealthSubsystem(HealthDeps deps);
  ~HealthSubsystem();
  // Failures are logged and reported by /v1/health/status; the agent keeps
  // serving without health checking rather than not at all.
  void start();
  void stop();
  // The health endpoint's addresses (spec.health of this node's CiliumNode);
  // empty when there is no health endpoint.
  std::vector<IpAddr> endpoint_addresses() const;
  // The same, by family: what NodeRegistration::set_health_addresses takes.
  std::optional<IpAddr> endpoint_ipv4() const;
  std::optional<IpAddr> endpoint_ipv6() const;
  // /v1/health/*; nullopt for other paths.
  std::optional<api::HttpResponse> handle(const api::HttpRequest& req);

 private:
  void start_endpoint();
  // Health checking turned off since the endpoint was made: remove it.
  void remove_endpoint();
  void start_node_responders();
  std::vector<health::NodeTarget> targets();
  nlohmann::json status_json() const;

  HealthDeps d_;
  mutable std::mutex mu_;
  std::optional<endpoint::Endpoint> endpoint_;
  std::string endpoint_note_;  // why there is no health endpoint
  std::vector<std::unique_ptr<health::Responder>> responders_;
  std::unique_ptr<health::Prober> prober_;
};

// The agent's API handler with /v1/health/* in front.
api::UnixHttpServer::Handler with_health_routes(api::UnixHttpServer::Handler inner, HealthSubsystem& health);

}  // namespace cpp::agent
