#pragma once
// Where the operator's objects and leader lock live: etcd (kvstore: etcd;
// EtcdStore, a leader key under an etcd lease) or the Kubernetes API
// (K8s mode; KubeStore, a coordination.k8s.io Lease).
#include <cstdint>
#include <memory>
#include <string>

#include "k8s/client/kube_client.h"
#include "kvstore/etcd_client.h"
#include "operator/elector.h"
#include "operator/operator_config.h"
#include "store/store.h"

namespace cpp::op {

struct OperatorBackend {
  std::string api;       // "etcd" or "kubernetes API": logs and the /healthz detail
  std::string endpoint;  // first etcd endpoint or the API server's URL
  std::shared_ptr<kvstore::EtcdClient> etcd;  // etcd mode only (kvstore identity GC)
  std::shared_ptr<k8s::KubeClient> kube;      // K8s mode only
  std::unique_ptr<store::ResourceStore> store;

  // One cheap request (etcd's status, the API's /version); never throws.
  bool reachable();
  std::unique_ptr<Elector> elector(const std::string& holder, int64_t lease_ttl_seconds);
};

// Does not wait for the backend: an unreachable one shows in reachable()
// and as errors of the store's calls. Throws std::invalid_argument naming
// a missing or invalid etcd config or kubeconfig.
OperatorBackend make_backend(const OperatorConfig& cfg);

}  // namespace cpp::op
