#pragma once
// The service model (kube-proxy replacement): core v1 Service and
// discovery.k8s.io/v1 EndpointSlice objects parsed into plain structs, and
// the per-node load-balancer state derived from them. Pure logic: no maps,
// no store, no kernel. The agent's ServiceSubsystem diffs lb_state() results
// and programs the BPF maps; the operator uses the same parser for LB IPAM.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/ip.h"

namespace cpp::service {

enum class Protocol : uint8_t { TCP = 6, UDP = 17, SCTP = 132 };  // values are IPPROTO_*
const char* to_string(Protocol p);                                // "TCP", "UDP", "SCTP"

enum class FrontendType { ClusterIP, NodePort, ExternalIP, LoadBalancer };
const char* to_string(FrontendType t);  // upstream's words: "ClusterIP", "NodePort", "ExternalIPs", "LoadBalancer"

enum class TrafficPolicy { Cluster, Local };
enum class Scope : uint8_t { External = 0, Internal = 1 };  // CPP_LB_SCOPE_*

struct ServicePort {
  std::string name;
  Protocol protocol = Protocol::TCP;
  uint16_t port = 0;
  uint16_t node_port = 0;       // 0 = none
  std::string target_port;      // a number or a port name; "" = same as port
};

// A v1 Service, validated. parse_service throws std::invalid_argument with
// the field path ("spec.ports[1].port: must be 1..65535").
struct Service {
  std::string ns, name;
  std::string type = "ClusterIP";  // ClusterIP, NodePort, LoadBalancer (ExternalName is rejected)
  std::vector<IpAddr> cluster_ips;  // spec.clusterIPs (or clusterIP); empty for headless ("None")
  std::vector<IpAddr> external_ips;
  std::vector<IpAddr> lb_ingress;   // status.loadBalancer.ingress[].ip
  std::vector<ServicePort> ports;
  std::map<std::string, std::string> selector;
  TrafficPolicy external_policy = TrafficPolicy::Cluster;
  TrafficPolicy internal_policy = TrafficPolicy::Cluster;
  bool affinity_client_ip = false;
  uint32_t affinity_timeout_s = 10800;  // upstream/Kubernetes default
  // Also read, for LB IPAM, conflicts and the EndpointSlice controller:
  std::vector<std::string> ip_families;  // spec.ipFamilies ("IPv4", "IPv6"), as written
  std::string ip_family_policy;          // spec.ipFamilyPolicy ("" when absent)
  std::map<std::string, std::string> labels, annotations;
  std::string load_balancer_ip;          // spec.loadBalancerIP ("" when absent)
  std::optional<std::string> load_balancer_class;
  std::string creation_timestamp;        // metadata.creationTimestamp (RFC 3339, "" when absent)
  std::string uid;                       // metadata.uid
  std::string key() const { return ns + "/" + name; }
};
Service parse_service(const nlohmann::json& obj);

struct SliceEndpoint {
  std::vector<IpAddr> addresses;
  bool ready = true, serving = true, terminating = false;  // conditions (absent = ready/serving)
  std::string node_name;
  std::string target_ref;  // "namespace/pod" when targetRef is a Pod
};
struct SlicePort {
  std::string name;
  Protocol protocol = Protocol::TCP;
  uint16_t port = 0;
};
// A discovery.k8s.io/v1 EndpointSlice; the owning service is the
// kubernetes.io/service-name label.
struct EndpointSlice {
  std::string ns, name, service_name;
  std::string address_type = "IPv4";  // IPv4 or IPv6 (FQDN slices are ignored)
  std::vector<SliceEndpoint> endpoints;
  std::vector<SlicePort> ports;
};
EndpointSlice parse_endpoint_slice(const nlohmann::json& obj);

// What a node needs to know to turn services into frontends.
struct NodeView {
  std::string node_name;
  std::vector<IpAddr> node_addresses;  // NodePort frontends are opened on these
  bool enable_ipv4 = true, enable_ipv6 = true;
  bool node_port = true;               // kube-proxy-replacement: NodePort/LoadBalancer/ExternalIPs served
  bool external_ips = true;            // enable-external-ips
  bool external_cluster_ip = false;    // bpf-lb-external-clusterip: ClusterIPs get EXT entries too
};

struct L4Addr {
  IpAddr addr;
  uint16_t port = 0;
  Protocol protocol = Protocol::TCP;
  auto operator<=>(const L4Addr&) const = default;
  std::string str() const;  // "10.96.0.10:80/TCP", "[fd00::1]:80/TCP"
};

struct BackendSpec {
  L4Addr addr;
  bool terminating = false;  // kept for established connections, never picked by new ones
  std::string node_name;
  auto operator<=>(const BackendSpec&) const = default;
};

// One frontend in one scope, ready to be written to cpp_lb_svc.
struct Frontend {
  L4Addr addr;
  Scope scope = Scope::Internal;
  FrontendType type = FrontendType::ClusterIP;
  std::string service;   // "namespace/name" (or the API-given name for services without Kubernetes)
  std::string port_name;
  std::vector<BackendSpec> backends;  // active first (the slots, in a stable order), then terminating
  bool local = false;                 // this scope's traffic policy is Local
  bool affinity = false;
  uint32_t affinity_timeout_s = 0;
  auto operator<=>(const Frontend&) const = default;
  // Backends that new connections may pick (the non-terminating ones).
  size_t active_count() const;
};

// Frontends of one service on one node. Backend rules, as upstream:
// ready endpoints are used; when none is ready, serving+terminating ones
// are (Kubernetes' terminating-endpoint fallback); terminating ones are
// listed after the active ones so established connections keep them.
// Local traffic policy keeps only endpoints whose nodeName is this node.
// Named target ports resolve through the slice's ports. A family the node
// does not serve is skipped. Sorted by (address, scope); a frontend two
// frontend types of one service share (an external IP also listed as an
// ingress IP) appears once, as the first type in enum order.
std::vector<Frontend> frontends_of(const Service& svc, const std::vector<EndpointSlice>& slices,
                                   const NodeView& node);

// The frontends of every service, merged into what a node programs. Two
// services claiming one frontend (address, port, protocol) in one scope:
// the older service keeps it (creationTimestamp; services without one, such
// as those created through the API, count as newest; ties by key), the
// other loses that frontend and gets "frontend 10.0.0.1:80/TCP already used
// by default/svc-a". The rest of both services keeps working.
struct ServiceFrontends {
  std::string service;             // key
  std::string creation_timestamp;  // "" = unknown
  std::vector<Frontend> frontends;
};
struct FrontendSet {
  std::vector<Frontend> accepted;                            // sorted by (addr, scope)
  std::map<std::string, std::vector<std::string>> errors;    // service key -> messages (sorted, unique)
};
FrontendSet merge_frontends(const std::vector<ServiceFrontends>& services);

// Maglev lookup table (Eisenbud et al., NSDI'16) of size m (a prime) over
// the backends' names: entry i is an index into `backends`. Deterministic
// in the names alone, so every node computes the same table; adding or
// removing one of N backends changes about 1/N of the entries.
// The order of `backends` does not matter: the table is built over the
// sorted names and then expressed as indexes into `backends`. No backends:
// empty table. Throws std::invalid_argument for duplicate names, a
// non-prime m or more backends than m.
std::vector<uint32_t> maglev_table(const std::vector<std::string>& backends, uint32_t m = 16381);

// The backend index a flow with this hash lands on (table[hash % size]).
uint32_t maglev_pick(const std::vector<uint32_t>& table, uint64_t flow_hash);

// Deterministic 64-bit hash of bytes (FNV-1a, then a 64-bit finalizer),
// the same on every machine; different seeds give unrelated hashes.
uint64_t stable_hash(const std::string& data, uint64_t seed);

}  // namespace cpp::service
