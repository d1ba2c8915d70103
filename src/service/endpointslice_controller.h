#pragma once
// A stand-in for kube-controller-manager's EndpointSlice controller, for the
// lab (which has no Kubernetes): a Service and the pods of the cluster in,
// the discovery.k8s.io/v1 EndpointSlices Kubernetes would publish out.
//
// One slice per address family of the service, named "<svc>-ipv4" /
// "<svc>-ipv6" and labelled kubernetes.io/service-name; pods whose named
// target ports resolve to different numbers land in further slices
// "<svc>-ipv4-2", ... (a slice has one port list). Pods are selected by the
// service's spec.selector in its namespace; slice ports carry the service
// port names with the target port resolved per pod. A pod being deleted
// (metadata.deletionTimestamp) is ready=false, serving=<its readiness>,
// terminating=true. Headless and selectorless services get no slices. A
// service whose pods are all gone still gets its (empty) slices, so
// consumers see "no endpoints" rather than stale ones.
#include <vector>

#include <nlohmann/json.hpp>

namespace cpp::service {

// Throws std::invalid_argument for a malformed service (parse_service's
// errors) or pod ("pod default/web-1: status.podIPs[0].ip: invalid IP address \"x\"").
std::vector<nlohmann::json> slices_for(const nlohmann::json& service, const std::vector<nlohmann::json>& pods);

}  // namespace cpp::service
