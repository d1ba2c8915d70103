#pragma once
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/ipcache_owners.h"
#include "config/agent_config.h"
#include "datapath/endpoint_map.h"
#include "datapath/ipcache_map.h"
#include "datapath/policy_map.h"
#include "endpoint/endpoint.h"
#include "identity/identity.h"
#include "policy/engine.h"
#include "store/store.h"

namespace cpp::agent {

// Owns the node's policy state and keeps the datapath matching it:
//   reads   policy objects (CNP, CCNP, NetworkPolicy, CiliumCIDRGroup), Pods
//           and Namespaces from the store; identities from the allocator;
//   writes  cpp_policy entries, the enforcement flags of cpp_lxc entries,
//           ipcache entries of local endpoints, node addresses and CIDR
//           selectors, and CiliumIdentity objects to the store (unless the
//           allocator keeps them itself, as in crd mode).
// The engine computes diffs; flush() applies them upserts-first so a newly
// enforced direction never sees an empty map.
class PolicySubsystem {
 public:
  PolicySubsystem(const config::AgentConfig& cfg, store::ResourceStore& store, identity::IdentityAllocator& ids,
                  const std::string& pin_dir, IpcacheWriter& ipcache);
  ~PolicySubsystem();

  // Feeds existing identities and policies, then follows changes.
  void start();
  void stop();

  // Sets the endpoint's security labels (from its Pod and Namespace objects)
  // and allocates its identity.
  void resolve_identity(endpoint::Endpoint& ep);
  // Registers the endpoint with the engine and writes its policy entries and
  // ipcache entries. Returns the CPP_EP_F_* policy flags for its cpp_lxc entry.
  uint32_t bind(const endpoint::Endpoint& ep);
  // After the endpoint's cpp_lxc entry exists: writes its current flags (a
  // policy change may have landed between bind and the entry's creation).
  void attached(const endpoint::Endpoint& ep);
  void unbind(const endpoint::Endpoint& ep);

  // The node's own addresses belong to the host identity.
  void set_host_addresses(const std::vector<IpAddr>& addrs);

  // Validates every object first (nothing is stored if one is bad), then
  // stores and applies them. Returns the revision that enforces them.
  // Throws std::invalid_argument "document N: <path>: <reason>".
  uint64_t import(const std::vector<nlohmann::json>& objs);
  // false when no such policy was stored.
  bool remove(const std::string& kind, const std::string& ns, const std::string& name);

  nlohmann::json policies_json() const;
  nlohmann::json identities_json() const;
  std::optional<nlohmann::json> identity_json(uint32_t id) const;
  policy::TraceResult trace(const labels::LabelSet& src, const labels::LabelSet& dst, uint8_t proto,
                            uint16_t dport) const;
  // Security labels of a local endpoint or a Pod ("ns/name") for trace.
  std::optional<labels::LabelSet> labels_of_pod(const std::string& ns, const std::string& name) const;
  // Engine revision whose changes are in the datapath.
  uint64_t realized_revision() const { return realized_.load(); }
  std::string describe_cookie(uint32_t cookie) const { return engine_.describe_cookie(cookie); }
  std::optional<policy::RuleRef> cookie_rule(uint32_t cookie) const { return engine_.cookie_rule(cookie); }
  std::string identity_labels(uint32_t id) const;
  // Told every change of a local endpoint's enforcement (ingress, egress),
  // its first state included, under the subsystem's lock: keep it short and
  // never call back into the subsystem. Set it before start().
  void set_enforcement_observer(std::function<void(uint16_t ep_id, bool ingress, bool egress)> cb) {
    std::lock_guard lock(mu_);
    on_enforcement_ = std::move(cb);
  }
  // Told the outcome of every policy change (store events and rejected
  // imports), for cilium_policy_change_total. May be set at any time.
  void set_change_observer(std::function<void(bool ok)> cb) {
    std::lock_guard lock(change_mu_);
    on_change_ = std::move(cb);
  }

 private:
  void changed(bool ok) const {
    std::lock_guard lock(change_mu_);
    if (on_change_) on_change_(ok);
  }
  void flush_locked();
  void sync_cidr_identities_locked();
  void write_flags_locked(uint16_t ep_id, uint32_t flags);
  void ipcache_claim_locked(const IpPrefix& key, IpcacheSource src, uint32_t identity);
  void ipcache_release_locked(const IpPrefix& key, IpcacheSource src);
  void apply_object(const nlohmann::json& obj);
  void remove_object(const nlohmann::json& obj);
  void on_pod(const nlohmann::json& pod, bool deleted);
  labels::LabelSet security_labels(const endpoint::Endpoint& ep) const;
  static uint32_t flags_of(const policy::EndpointPolicy& p);

  const config::AgentConfig& cfg_;
  store::ResourceStore& store_;
  identity::IdentityAllocator& ids_;
  policy::PolicyEngine engine_;
  datapath::PolicyMap policy_map_;
  datapath::EndpointMap endpoint_map_;
  IpcacheWriter& ipcache_;  // shared with the overlay subsystem

  mutable std::mutex mu_;
  std::function<void(uint16_t, bool, bool)> on_enforcement_;
  std::map<uint16_t, endpoint::Endpoint> bound_;
  std::map<IpPrefix, uint32_t> cidr_ids_;  // prefix -> CIDR identity held for policy selectors
  std::vector<IpAddr> host_addrs_;
  std::atomic<uint64_t> realized_{0};
  uint64_t observer_ = 0;
  std::vector<std::unique_ptr<store::WatchHandle>> watches_;
  mutable std::mutex change_mu_;
  std::function<void(bool)> on_change_;
};

}  // namespace cpp::agent
