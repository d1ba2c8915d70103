#pragma once
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <unordered_map>

#include "agent/policy_subsystem.h"
#include "agent/service_subsystem.h"
#include "endpoint/manager.h"
#include "hubble/enricher.h"
#include "identity/identity.h"
#include "store/store.h"

namespace cpp::agent {

// Names the two sides of a flow from the agent's state:
//   reads  local endpoints (endpoint manager), CiliumEndpoint objects of the
//          whole cluster (pod names of remote addresses), identity labels
//          (allocator), policy cookies (policy engine), service frontends,
//          the netns cookie of each local endpoint's namespace (trace-sock
//          events name the client by it: SO_NETNS_COOKIE on a socket made
//          there, once per namespace);
//   writes nothing; caches immutable answers (labels per identity, endpoint
//          descriptions, policy references) so a flow costs a few lookups.
class HubbleEnricher : public hubble::Enricher {
 public:
  HubbleEnricher(std::string node_name, const endpoint::Manager& endpoints, const identity::IdentityAllocator& ids,
                 const PolicySubsystem& policy, store::ResourceStore& store, const ServiceSubsystem* services);
  ~HubbleEnricher() override;

  void start();  // follows CiliumEndpoint objects
  void stop();

  std::shared_ptr<const hubble::EndpointInfo> endpoint(const IpAddr& addr, uint16_t ep_id,
                                                       uint32_t identity) const override;
  std::shared_ptr<const hubble::PolicyRef> policy(uint32_t cookie) const override;
  std::optional<hubble::ServiceRef> service(const IpAddr& addr, uint16_t port, uint8_t protocol) const override;
  std::string interface_name(uint32_t ifindex) const override;
  std::optional<hubble::NetnsEndpoint> endpoint_by_netns(uint64_t cookie, bool ipv6) const override;
  std::string node_name() const override { return node_name_; }

 private:
  struct PodRef {
    std::string ns, name;
    uint32_t identity = 0;  // the endpoint's security identity, 0 if not known yet
  };
  void on_cilium_endpoint(store::EventType t, const nlohmann::json& obj);
  std::optional<PodRef> pod_of(const IpAddr& addr, uint16_t ep_id) const;
  std::shared_ptr<const std::vector<std::string>> labels_of(uint32_t identity) const;
  uint64_t cookie_of_path(const std::string& netns_path) const;

  const std::string node_name_;
  const endpoint::Manager& endpoints_;
  const identity::IdentityAllocator& ids_;
  const PolicySubsystem& policy_;
  store::ResourceStore& store_;
  const ServiceSubsystem* services_;

  mutable std::mutex mu_;
  std::map<IpAddr, PodRef> remote_pods_;  // from CiliumEndpoint objects
  mutable std::unordered_map<uint32_t, std::shared_ptr<const std::vector<std::string>>> labels_;
  mutable std::map<std::tuple<uint32_t, uint32_t, std::string, std::string>,
                   std::shared_ptr<const hubble::EndpointInfo>> infos_;
  mutable std::unordered_map<uint32_t, std::shared_ptr<const hubble::PolicyRef>> policies_;
  mutable std::unordered_map<uint32_t, std::string> ifnames_;
  // netns path -> the namespace's inode and cookie (0: it could not be
  // learned). A pod re-created under the same name gets a new namespace at
  // the old path: the inode (one stat per lookup) tells them apart.
  struct NetnsCookie {
    uint64_t inode = 0;
    uint64_t cookie = 0;
  };
  mutable std::unordered_map<std::string, NetnsCookie> netns_cookies_;
  // netns cookie -> endpoint ID, learned by scanning the endpoints; a cookie
  // no endpoint has (the node's own processes) is not looked for again for
  // kNetnsMissTtl, so a busy client outside any pod costs no scan per event.
  mutable std::unordered_map<uint64_t, uint16_t> netns_eps_;
  mutable std::unordered_map<uint64_t, std::chrono::steady_clock::time_point> netns_misses_;
  static constexpr std::chrono::seconds kNetnsMissTtl{1};
  std::unique_ptr<store::WatchHandle> watch_;
};

}  // namespace cpp::agent
