#pragma once
// The CiliumEndpoint object of each local endpoint, written when the
// endpoint changes and when the policy enforcement of its ingress or egress
// changes (status.policy.{ingress,egress}.enforcing, as upstream reports it;
// the per-endpoint policy status itself is upstream's "<status disabled>",
// as in the seed). In Kubernetes mode the Pod is its owner and its named
// ports are listed. The health endpoint has none (upstream publishes none).
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "endpoint/endpoint.h"
#include "store/store.h"

namespace cpp::agent {

class CepPublisher {
 public:
  CepPublisher(store::ResourceStore& store, std::string node_ip, bool k8s_mode);

  void endpoint_changed(const endpoint::Endpoint& ep, bool deleted);
  // Safe to call before the endpoint is known: its first object uses it.
  void enforcement_changed(uint16_t ep_id, bool ingress, bool egress);

 private:
  void publish_locked(const endpoint::Endpoint& ep);

  store::ResourceStore& store_;
  const std::string node_ip_;
  const bool k8s_mode_;
  std::mutex mu_;
  std::map<uint16_t, endpoint::Endpoint> endpoints_;
  std::map<uint16_t, std::pair<bool, bool>> enforcement_;  // ingress, egress
};

}  // namespace cpp::agent
