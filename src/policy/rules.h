#pragma once
// The rule model: CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy and
// networking.k8s.io/v1 NetworkPolicy objects parsed into one shape, with
// upstream Cilium 1.15's semantics already applied where they are static
// (namespace scoping of selectors, Kubernetes peer translation, protocol
// expansion). What depends on run-time state (entities → selectors need the
// cluster name; CIDR group references need the CiliumCIDRGroup objects) is
// kept symbolic and resolved by resolve_peers().
#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/ip.h"
#include "policy/selector.h"
#include "policy/types.h"

namespace cpp::policy {

enum class PolicyKind { CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy, NetworkPolicy };
const char* to_string(PolicyKind k);
std::optional<PolicyKind> policy_kind_from_string(const std::string& kind);

// A port (or ICMP type) a rule allows or denies.
struct PortProto {
  uint8_t proto = kProtoTCP;  // TCP/UDP/SCTP, or ICMP/ICMPv6 with port = type
  uint16_t port = 0;          // 0 = every port of proto (unless name is set)
  uint16_t end_port = 0;      // > port: the range port..end_port
  std::string name;           // named port (lower-case), resolved per endpoint
  bool operator==(const PortProto&) const = default;
  auto operator<=>(const PortProto&) const = default;
  std::string str() const;    // "80/TCP", "80-90/TCP", "http/TCP", "ICMP type 8"
};

struct CidrPeer {
  IpPrefix prefix;
  std::vector<IpPrefix> except;
};

// cidrGroupRef (by name) or cidrGroupSelector (by group labels), with the
// rule's except list.
struct CidrGroupPeer {
  std::string name;
  std::optional<Selector> selector;
  std::vector<IpPrefix> except;
};

// One element of ingress / ingressDeny / egress / egressDeny (or of a
// NetworkPolicy's ingress / egress).
struct PeerRule {
  Direction dir = Direction::Ingress;
  bool deny = false;
  std::string path;  // "spec.ingress[0]", "specs[1].egressDeny[2]"

  // L3. `wildcard`: every peer (a rule with only toPorts/icmps, a
  // NetworkPolicy rule without `from`/`to`). Otherwise the union of the peer
  // lists; when none is given and there is no L4 part the rule selects no peer.
  bool wildcard = false;
  std::vector<Selector> endpoints;  // from/toEndpoints, namespace scoping applied; fromRequires apply
  std::vector<Selector> requires_;  // from/toRequires: ANDed into every endpoints selector of the endpoint's rules
  std::vector<std::string> entities;
  std::vector<CidrPeer> cidrs;
  std::vector<CidrGroupPeer> cidr_groups;

  // L4. has_l4 = toPorts or icmps given; otherwise the rule is L3-only (all
  // protocols and ports, ICMP included). ANY is already expanded to TCP, UDP, SCTP.
  bool has_l4 = false;
  std::vector<PortProto> ports;

  bool has_named_ports() const;
  bool selects_nothing() const;  // no L3 peer can match
};

// One rule (a CNP `spec` or an element of `specs`, or a whole NetworkPolicy).
struct Rule {
  std::string path;  // "spec", "specs[1]"
  Selector subject;  // endpointSelector / podSelector with namespace scoping applied
  std::string description;
  // Default-deny trigger per direction (upstream: len(ingress)+len(ingressDeny) > 0;
  // NetworkPolicy: the direction is in policyTypes).
  bool ingress_enforced = false;
  bool egress_enforced = false;
  std::vector<PeerRule> peer_rules;  // ingress, ingressDeny, egress, egressDeny in order
};

struct Policy {
  PolicyKind kind = PolicyKind::CiliumNetworkPolicy;
  std::string ns;  // "" for cluster-wide
  std::string name;
  std::vector<Rule> rules;

  std::string display() const;  // "CiliumNetworkPolicy default/allow-web", "CiliumClusterwideNetworkPolicy lockdown"
  std::vector<std::string> cidr_group_names() const;  // referenced by name
  bool uses_cidr_group_selectors() const;
};

struct CidrGroup {
  std::string name;
  std::map<std::string, std::string> labels;  // metadata.labels
  std::vector<IpPrefix> cidrs;                // spec.externalCIDRs
};

// Parses a policy object (CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy
// or NetworkPolicy). Nothing partial: throws PolicyError with the field path.
Policy parse_policy(const nlohmann::json& obj);
// Parses a CiliumCIDRGroup (cilium.io/v2alpha1).
CidrGroup parse_cidr_group(const nlohmann::json& obj);

// Entity names known to the parser.
const std::vector<std::string>& entity_names();

// Run-time inputs of peer resolution.
struct ResolveContext {
  std::string cluster_name = "default";
  const std::map<std::string, CidrGroup>* cidr_groups = nullptr;
  bool world_split = false;  // 0.0.0.0/0 and ::/0 select world-ipv4 / world-ipv6 instead of world
};

// A PeerRule's L3 part as selectors over identity labels.
struct ResolvedPeers {
  bool wildcard = false;              // every identity (map identity 0)
  std::vector<Selector> endpoints;    // from/toEndpoints (fromRequires apply to these)
  std::vector<Selector> others;       // entities and CIDRs
};
// Entities: world → reserved:world (+ world-ipv4/ipv6); cluster → host,
// remote-node, init, ingress, health, unmanaged, kube-apiserver and
// k8s:io.cilium.k8s.policy.cluster=<cluster>; all → wildcard. CIDR p except
// e1..en → {cidr:p, !cidr:e1, ..., !cidr:en}, plus reserved:world when p is /0
// (reserved:world-ipv4 / world-ipv6 when the world is split).
ResolvedPeers resolve_peers(const PeerRule& r, const ResolveContext& ctx);

// The CIDR prefixes a rule refers to (allowed prefixes and their excepts,
// groups resolved), for which CIDR identities must exist. /0 is left out:
// the world identity stands for it.
std::vector<IpPrefix> rule_prefixes(const PeerRule& r, const ResolveContext& ctx);

}  // namespace cpp::policy
