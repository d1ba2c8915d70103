#pragma once
// LB IPAM (upstream operator/pkg/lbipam), pure: CiliumLoadBalancerIPPool
// objects plus LoadBalancer services in, the IPs each service gets and each
// pool's status conditions out. No state between calls: the services'
// current status.loadBalancer.ingress is the memory, so an IP stays with its
// service as long as it remains valid. Deterministic: pools are considered
// oldest first (creationTimestamp, then name), services in key order.
// Services with one sharing key share an IP when compatible (1.15's rules,
// incompatibility()); an IP is free again once its last holder lets go.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/ip.h"
#include "service/label_selector.h"
#include "service/model.h"

namespace cpp::service::lbipam {

// Upstream's condition types and annotation keys.
inline constexpr const char* kRequestSatisfied = "cilium.io/IPAMRequestSatisfied";
inline constexpr const char* kPoolConflict = "cilium.io/PoolConflict";
inline constexpr const char* kIPsTotal = "cilium.io/IPsTotal";
inline constexpr const char* kIPsAvailable = "cilium.io/IPsAvailable";
inline constexpr const char* kIPsUsed = "cilium.io/IPsUsed";
inline constexpr const char* kIPsAnnotation = "lbipam.cilium.io/ips";
inline constexpr const char* kIPsAnnotationAlias = "io.cilium/lb-ipam-ips";
inline constexpr const char* kSharingKeyAnnotation = "lbipam.cilium.io/sharing-key";
inline constexpr const char* kSharingKeyAnnotationAlias = "io.cilium/lb-ipam-sharing-key";
// Labels every service carries for pool selectors, as upstream.
inline constexpr const char* kServiceNamespaceLabel = "io.kubernetes.service.namespace";
inline constexpr const char* kServiceNameLabel = "io.kubernetes.service.name";

struct Block {
  IpAddr first, last;
  bool from_cidr = false;
  std::string str() const;  // "10.0.10.0/24" for a cidr, "20.0.20.100-20.0.20.200" for start/stop
  bool operator==(const Block&) const = default;
};

struct Pool {
  std::string name;
  std::string creation_timestamp;  // "" = unknown, counts as newest
  std::vector<Block> blocks;
  std::optional<LabelSelector> selector;  // absent: every service
  bool allow_first_last = false;          // allowFirstLastIPs: Yes
  bool disabled = false;                  // no new allocations; existing ones stay
};

// cilium.io/v2alpha1 CiliumLoadBalancerIPPool. Throws std::invalid_argument
// naming the field ("spec.blocks[1]: start 10.0.0.9 is after stop 10.0.0.1").
Pool parse_pool(const nlohmann::json& obj);

struct Condition {
  std::string type, status, reason, message;  // status "True", "False" or "Unknown"
  bool operator==(const Condition&) const = default;
};

struct ServiceRequest {
  std::string key;                            // namespace/name
  std::map<std::string, std::string> labels;  // service labels + the two kService*Label
  std::vector<IpAddr> requested;              // spec.loadBalancerIP and the lbipam.cilium.io/ips annotation
  bool want_v4 = false, want_v6 = false;      // from ipFamilies/ipFamilyPolicy, as upstream
  std::vector<IpAddr> current;                // status.loadBalancer.ingress now
  std::string error;                          // a malformed requested IP: no IPs, condition says why
  // What decides whether two services may share an IP.
  std::string ns;
  std::string sharing_key;                    // "" never shares
  std::vector<uint16_t> ports;                // spec.ports[].port
  bool external_local = false;                // externalTrafficPolicy: Local
  std::map<std::string, std::string> selector;
  // Spec or LB IPAM annotations changed since LB IPAM last wrote the
  // service (the controller knows). When services claim one current IP and
  // cannot all keep it, unchanged ones keep it first, so the service whose
  // change caused the clash is the one that moves, as upstream.
  bool changed = false;
  std::string creation_timestamp;             // then older first ("" = newest)
};

// Why a and b may not share an IP, "" when they may (upstream 1.15): same
// sharing key and namespace, no port number in common (1.15 compares the
// number only, whatever the protocol), the same externalTrafficPolicy, and
// with Local the same non-empty selector.
std::string incompatibility(const ServiceRequest& a, const ServiceRequest& b);

// The request of a LoadBalancer service LB IPAM is responsible for (no
// loadBalancerClass, or one of Cilium's); nullopt for any other service.
std::optional<ServiceRequest> request_for(const Service& svc, bool ipv4_enabled = true, bool ipv6_enabled = true);

struct ServiceResult {
  std::vector<IpAddr> ips;  // the new status.loadBalancer.ingress: kept IPs first, then new ones
  Condition condition;      // kRequestSatisfied: True "satisfied", or False with upstream's reason
};

struct PoolResult {
  bool conflicting = false;
  std::string total, available, used;  // decimal (IPv6 pools exceed 64 bits)
  std::vector<Condition> conditions;   // kPoolConflict, kIPsTotal, kIPsAvailable, kIPsUsed
};

struct Result {
  std::map<std::string, ServiceResult> services;  // by key
  std::map<std::string, PoolResult> pools;        // by name
};

// Pool names must be unique (std::invalid_argument otherwise).
Result allocate(const std::vector<Pool>& pools, const std::vector<ServiceRequest>& services);

}  // namespace cpp::service::lbipam
