#include "operator/operator_backend.h"

#include "k8s/client/kube_config.h"
#include "k8s/client/kube_store.h"
#include "operator/lease_election.h"
#include "operator/leader_election.h"
#include "store/etcd_store.h"

namespace cpp::op {

bool OperatorBackend::reachable() {
  try {
    if (etcd) return etcd->reachable();
    kube->call("GET", "/version");
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

std::unique_ptr<Elector> OperatorBackend::elector(const std::string& holder, int64_t lease_ttl_seconds) {
  if (etcd)
    return std::make_unique<LeaderElection>(*etcd, kvstore::keys::kOperatorLeader, holder, lease_ttl_seconds);
  return std::make_unique<LeaseElection>(*store, holder, LeaseTiming::from_ttl(lease_ttl_seconds));
}

OperatorBackend make_backend(const OperatorConfig& cfg) {
  OperatorBackend b;
  if (!cfg.k8s) {
    auto opts = kvstore::load_etcd_config(cfg.etcd_config);
    b.api = "etcd";
    b.endpoint = opts.endpoints.front();
    b.etcd = std::make_shared<kvstore::EtcdClient>(opts);
    b.store = std::make_unique<store::EtcdStore>(b.etcd);
    return b;
  }
  k8s::KubeClient::Options o;
  if (!cfg.kubeconfig_path.empty()) {
    o.config = k8s::load_kubeconfig(cfg.kubeconfig_path);
  } else if (auto in_pod = k8s::load_in_cluster()) {
    o.config = *in_pod;
  } else {
    throw std::invalid_argument("no Kubernetes API: 'k8s-kubeconfig-path' is unset and KUBERNETES_SERVICE_HOST "
                                "is not in the environment");
  }
  o.qps = cfg.k8s_qps;
  o.burst = cfg.k8s_burst;
  b.api = "kubernetes API";
  b.endpoint = o.config.server;
  b.kube = std::make_shared<k8s::KubeClient>(o);
  b.store = std::make_unique<k8s::KubeStore>(b.kube);
  return b;
}

}  // namespace cpp::op
