#pragma once
// The BGP control plane's model: cilium.io/v2alpha1 CiliumBGPPeeringPolicy
// objects, parsed with upstream's field names and defaults, and the
// speaker's desired state on one node computed from them. Pure: the agent
// feeds in what its store watches (policies, its Node, Services with their
// local-backend state, auth secrets) and hands the result to Speaker::apply.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bgp/speaker.h"
#include "common/ip.h"
#include "service/label_selector.h"
#include "service/model.h"

namespace cpp::bgp {

// Which service addresses a virtual router advertises (upstream's
// serviceAdvertisements, cilium.io/v2alpha1 as of 1.16; 1.15 only knew
// LoadBalancerIP, which stays the default).
enum class ServiceAddressType { LoadBalancerIP, ClusterIP, ExternalIP };

struct PolicyNeighbor {
  NeighborConfig config;                     // md5_password stays empty: secrets are resolved per node
  std::optional<std::string> auth_secret_ref;  // Secret name (namespace: the agent's bgp secrets namespace)
};

struct PolicyVirtualRouter {
  uint32_t local_asn = 0;
  bool export_pod_cidr = false;
  std::optional<service::LabelSelector> pod_ip_pool_selector;  // accepted; multi-pool IPAM is not advertised yet
  std::optional<service::LabelSelector> service_selector;      // absent: no services
  std::vector<ServiceAddressType> service_advertisements{ServiceAddressType::LoadBalancerIP};
  std::vector<PolicyNeighbor> neighbors;
};

struct PeeringPolicy {
  std::string name;
  std::optional<service::LabelSelector> node_selector;  // absent: every node
  std::vector<PolicyVirtualRouter> virtual_routers;
};

// Throws std::invalid_argument naming the field, e.g.
// "spec.virtualRouters[0].neighbors[1].peerASN: 0 is not a valid ASN".
// Checks what is wrong in the object alone: ASNs (1..4294967295), timers
// (hold >= 3, keepalive <= hold), CIDR-form host peer addresses, families
// (ipv4/ipv6 unicast), a localASN used twice, a peer address used twice.
PeeringPolicy parse_peering_policy(const nlohmann::json& obj);

// parse_peering_policy for a list of store objects: never throws.
struct ParsedPolicy {
  std::string name;                     // metadata.name ("" when even that is missing)
  std::optional<PeeringPolicy> policy;  // nullopt: invalid, see error
  std::string error;
};
ParsedPolicy parse_policy_object(const nlohmann::json& obj);

// This node as the control plane needs it.
struct BgpNode {
  std::string name;
  std::map<std::string, std::string> labels, annotations;
  std::vector<IpPrefix> pod_cidrs;    // IPv4 and IPv6
  std::vector<IpAddr> internal_ips;   // the first IPv4 one is the default router ID
};

// Upstream's per-router node annotation: cilium.io/bgp-virtual-router.<asn>
// = "router-id=10.0.0.2,local-port=1790".
inline constexpr const char* kVirtualRouterAnnotationPrefix = "cilium.io/bgp-virtual-router.";

enum class PolicyState {
  NotSelected,  // nodeSelector does not match this node
  Applied,      // this node runs it (errors may still name skipped neighbors)
  Conflict,     // it and another policy select this node: upstream applies none
  Invalid,      // parse error
  Failed,       // selected alone but not applicable on this node (e.g. no router ID)
};
const char* to_string(PolicyState s);  // "NotSelected", "Applied", ...

struct PolicyStatus {
  std::string policy;
  PolicyState state = PolicyState::NotSelected;
  std::vector<std::string> errors;  // field paths first; neighbors skipped on this node say why
};

struct DesiredState {
  SpeakerConfig config;                // no routers (router_id 0) when no policy applies
  std::vector<PolicyStatus> policies;  // one per input, in input order
};

// The speaker configuration of `node`:
// - exactly one valid policy must select the node (several: all Conflict,
//   nothing applied, as upstream);
// - router ID from the annotation of each router's ASN, else the node's first
//   IPv4 internal IP; listen port from the annotation's local-port, else none.
//   The speaker has one router ID and one listener: routers disagreeing on
//   them is an error (the policy Fails);
// - routes: the node's PodCIDRs (exportPodCIDR) and /32 or /128 routes for the
//   addresses of services matching serviceSelector (their labels plus
//   io.kubernetes.service.{name,namespace}); LoadBalancerIP = status ingress
//   IPs of LoadBalancer services of no or the BGP control plane's
//   loadBalancerClass, ExternalIP = spec.externalIPs (both skipped under
//   externalTrafficPolicy Local without a local backend), ClusterIP =
//   spec.clusterIPs (skipped under internalTrafficPolicy Local without one);
// - a neighbor whose authSecretRef names no entry of `secrets` (name ->
//   password) is left out with an error; the rest runs.
// `local_backends` holds the keys ("namespace/name") of services with a
// ready backend on this node.
DesiredState desired_state(const std::vector<ParsedPolicy>& policies, const BgpNode& node,
                           const std::vector<service::Service>& services,
                           const std::set<std::string>& local_backends,
                           const std::map<std::string, std::string>& secrets);

// Keys of services with a ready, non-terminating endpoint on `node_name`.
std::set<std::string> services_with_local_backends(const std::vector<service::EndpointSlice>& slices,
                                                   const std::string& node_name);

}  // namespace cpp::bgp
