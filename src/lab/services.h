#pragma once
// The lab's stand-in for the Kubernetes control plane around Services
// (no kube-apiserver or kube-controller-manager runs here):
//   - admission as the API server does it: a Service without a clusterIP
//     gets one from the lab's service CIDRs, NodePort/LoadBalancer ports
//     without a nodePort get one from 30000-32767; the agents' own parser
//     rejects a bad Service before anything is stored;
//   - the EndpointSlice controller: slices follow Services and Pods;
//   - waiting until every agent has programmed what the store says, so the
//     next lab command sees the new frontends and backends in the datapath.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lab/state.h"
#include "store/store.h"

namespace cpp::lab {

inline constexpr const char* kServiceCidrIpv4 = "10.96.0.0/16";
inline constexpr const char* kServiceCidrIpv6 = "fd00:10:96::/112";
inline constexpr int kNodePortMin = 30000;
inline constexpr int kNodePortMax = 32767;

// Fills in clusterIPs/ipFamilies and nodePorts, then validates with the
// agents' parser. Throws std::invalid_argument naming the field. One
// admission serves a whole apply: it remembers what it handed out, so the
// Services of one file never get the same address or port.
class ServiceAdmission {
 public:
  explicit ServiceAdmission(store::ResourceStore& store);
  nlohmann::json admit(nlohmann::json svc);

 private:
  store::ResourceStore& store_;
  std::map<std::string, std::set<std::string>> ips_;  // by "namespace/name"
  std::map<std::string, std::set<int>> node_ports_;
};

// Brings the EndpointSlices of every Service in line with Services and
// Pods. Returns the services whose slices changed ("namespace/name").
std::vector<std::string> sync_endpoint_slices(store::ResourceStore& store);

// Waits until every running agent lists `service` ("namespace/name") with
// exactly the active backend addresses its slices name (none when the
// service is gone). False, with a message on stderr, after the deadline.
bool wait_service_realized(const LabState& lab, store::ResourceStore& store, const std::string& service);

// Marks a pod terminating (deletionTimestamp), updates the slices and waits
// until no agent picks it for new connections any more: the graceful part
// of a pod deletion. Best effort; returns the problems it met.
std::vector<std::string> drain_pod(const LabState& lab, store::ResourceStore& store, const PodState& pod);

// sync_endpoint_slices + wait_service_realized for what changed; problems
// are warnings on stderr (pods and nodes still come and go).
void follow_services(const LabState& lab, store::ResourceStore& store);

}  // namespace cpp::lab
