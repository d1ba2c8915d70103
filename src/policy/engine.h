#pragma once
// PolicyEngine: the facade the agent drives. It holds the policy repository,
// the selector cache, the identities known to the node and the local
// endpoints, and computes each endpoint's policy map entries incrementally:
//
//   * a new identity that existing selectors match changes only the entries
//     of endpoints whose rules use those selectors;
//   * applying or removing a policy recomputes only the endpoints it selected
//     before or selects after;
//   * every mutating call bumps revision().
//
// The caller drains take_changes() / take_enforcement_changes() and writes
// them to the datapath (suggested order: upserts, then enforcement flags,
// then deletes, so a newly enforced direction never sees an empty map).
// Thread-safe: every public method takes the engine's lock.
#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/ip.h"
#include "labels/labels.h"
#include "policy/repository.h"
#include "policy/rules.h"
#include "policy/types.h"

namespace cpp::policy {

struct EngineConfig {
  std::string cluster_name = "default";      // cluster-name (the `cluster` entity)
  EnforcementMode mode = EnforcementMode::Default;  // enable-policy
  bool audit = false;                        // policy-audit-mode
  // allow-localhost=auto in Kubernetes mode means always: the local host may
  // always reach the node's endpoints (an ingress allow for identity 1).
  bool allow_localhost = true;
  bool world_split = false;                  // identities 9/10 exist
};

struct EndpointPolicy {
  uint16_t ep_id = 0;
  uint32_t identity = 0;
  bool enforce_ingress = false;
  bool enforce_egress = false;
  bool audit = false;
  std::map<MapKey, MapValue> entries;
  std::vector<std::string> policies;  // display names of the policies selecting the endpoint
  uint64_t revision = 0;              // engine revision when the endpoint's entries or flags last changed
};

struct PolicySummary {
  PolicyKind kind;
  std::string ns;
  std::string name;
  uint64_t revision = 0;  // engine revision when applied
  nlohmann::json object;  // as applied
  size_t rules = 0;       // specs
};

struct SelectorInfo {
  std::string selector;
  std::vector<uint32_t> identities;
  size_t users = 0;
};

// One direction of a trace.
struct DirectionTrace {
  bool enforced = false;
  bool allowed = true;
  uint32_t cookie = 0;            // deciding rule (0: none / default deny)
  std::optional<RuleRef> rule;    // what the cookie names
  std::vector<std::string> steps; // human-readable
};

struct TraceResult {
  bool allowed = false;  // both directions allow (audit mode still reports the real verdict)
  bool audit = false;    // policy-audit-mode: a denied flow would pass, reported as AUDIT
  DirectionTrace egress;   // source's egress policy
  DirectionTrace ingress;  // destination's ingress policy
  std::string verdict() const;  // "ALLOWED", "DENIED", "AUDITED (would be denied)"
  std::string text;             // `cilium policy trace`-style report
};

class PolicyEngine {
 public:
  explicit PolicyEngine(EngineConfig cfg = {});
  ~PolicyEngine();
  PolicyEngine(const PolicyEngine&) = delete;
  PolicyEngine& operator=(const PolicyEngine&) = delete;

  EngineConfig config() const;
  // enable-policy and policy-audit-mode; recomputes every endpoint.
  void set_mode(EnforcementMode mode, bool audit);

  // Local endpoints. `labels` are the endpoint's security labels (those its
  // identity was allocated for); `named_ports` its containers' named ports.
  // The identity itself must be made known with add_identity() for other
  // endpoints' selectors to match it.
  void upsert_endpoint(uint16_t ep_id, uint32_t identity, const labels::LabelSet& labels,
                       const NamedPorts& named_ports = {});
  void remove_endpoint(uint16_t ep_id);
  bool has_endpoint(uint16_t ep_id) const;

  // Identities of the cluster and node (reserved ones are added by the
  // constructor). Re-adding an id with other labels re-labels it.
  void add_identity(uint32_t id, const labels::LabelSet& labels);
  void remove_identity(uint32_t id);

  // Named ports of remote (or any) pods, for egress rules with named ports:
  // a named port on egress resolves against the named ports of the pods of
  // each destination identity. `key` names the pod ("ns/name").
  void set_peer_named_ports(const std::string& key, uint32_t identity, const NamedPorts& ports);
  void remove_peer_named_ports(const std::string& key);

  // CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy, NetworkPolicy or
  // CiliumCIDRGroup. Throws PolicyError (nothing changes). Returns the new revision.
  uint64_t apply(const nlohmann::json& obj);
  // kind is the object kind ("CiliumNetworkPolicy", ...); ns "" for cluster-scoped.
  // Removing something that does not exist is not an error. Returns the new revision.
  uint64_t remove(const std::string& kind, const std::string& ns, const std::string& name);

  // Map entry changes since the last call, coalesced per (endpoint, key).
  std::vector<MapChange> take_changes();
  // Enforcement flag changes since the last call (first state of each new endpoint included).
  std::vector<EnforcementChange> take_enforcement_changes();

  // nullopt for an unknown endpoint.
  std::optional<EndpointPolicy> endpoint_policy(uint16_t ep_id) const;
  // Prefixes that need CIDR identities (from every policy, groups resolved; /0 excluded).
  std::vector<IpPrefix> cidr_prefixes() const;
  uint64_t revision() const;

  // What a cookie names ("CiliumNetworkPolicy default/x spec.ingress[0]"); "" if unknown.
  std::string describe_cookie(uint32_t cookie) const;
  std::optional<RuleRef> cookie_rule(uint32_t cookie) const;

  std::vector<PolicySummary> policies() const;
  std::vector<SelectorInfo> selectors() const;

  // Verdict for a connection from `src` to `dst` (security labels) on
  // proto/dport (ICMP: dport = type), evaluated from the rules directly, with
  // the deciding policy and rule, like `cilium policy trace`. dst_named_ports
  // resolves named ports of the destination.
  TraceResult trace(const labels::LabelSet& src, const labels::LabelSet& dst, uint8_t proto, uint16_t dport,
                    const NamedPorts& dst_named_ports = {}) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Named ports of a Pod object (spec.containers[].ports[] with a name).
NamedPorts pod_named_ports(const nlohmann::json& pod);

}  // namespace cpp::policy
