#pragma once
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bgp/peering_policy.h"
#include "bgp/speaker.h"
#include "common/ip.h"
#include "store/store.h"

namespace cpp::agent {

// The BGP control plane on one node (`enable-bgp-control-plane`):
//   reads   CiliumBGPPeeringPolicy objects, this node's Node object (labels,
//           annotations, addresses), Services and EndpointSlices (which
//           service IPs to announce; Local traffic policy needs a local
//           backend) and Secrets of `bgp-secrets-namespace` (TCP MD5 keys);
//   writes  BGP sessions and UPDATEs through the speaker; this node's entry
//           in each concerned policy's status.nodes (bgp/policy_status.h:
//           policy state, errors, each session's state and last error),
//           also logged and served on /v1/bgp.
// Every change recomputes the whole desired state (pure, bgp::desired_state)
// and the speaker reconciles the difference.
class BgpSubsystem {
 public:
  struct Options {
    std::string node_name;
    std::vector<IpPrefix> pod_cidrs;
    std::optional<IpAddr> node_ipv4, node_ipv6;  // next hops of announced routes
    std::string secrets_namespace = "kube-system";
    bool restarting = false;  // the agent ran before: graceful restart R bit
  };
  BgpSubsystem(store::ResourceStore& store, Options opts);
  ~BgpSubsystem();

  void start();
  // Closes the sessions without a NOTIFICATION: peers that negotiated
  // graceful restart keep the routes while the agent restarts.
  void stop();

  std::vector<bgp::PeerStatus> peers() const { return speaker_->peers(); }
  std::vector<bgp::RouteStatus> advertised() const { return speaker_->advertised(); }
  nlohmann::json peers_json() const;
  nlohmann::json routes_json(bool advertised) const;
  nlohmann::json policies_json() const;

 private:
  void run();
  void reconcile();
  void mark_dirty();
  // Writes this node's status entries that changed since the last write.
  void sync_status();
  void log_new_errors(const std::vector<bgp::PolicyStatus>& now);

  store::ResourceStore& store_;
  Options opts_;
  std::unique_ptr<bgp::Speaker> speaker_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool dirty_ = true, stopping_ = false;
  bool applied_ = false;  // the speaker holds a configuration
  std::vector<bgp::PolicyStatus> statuses_;
  std::string last_error_;
  // What this node last wrote into each policy's status (policy name ->
  // entry; null: no entry). Only the worker thread uses it.
  std::map<std::string, nlohmann::json> written_;
  std::vector<std::unique_ptr<store::WatchHandle>> watches_;
  std::thread worker_;
};

}  // namespace cpp::agent
