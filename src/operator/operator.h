#pragma once
#include <atomic>
#include <string>

#include "operator/operator_config.h"

namespace cpp::op {

// Runs cilium-operator-generic until `stop`: connects to etcd or (K8s mode)
// the Kubernetes API, serves /healthz (503 while that is unreachable),
// campaigns for leadership (etcd lease or coordination.k8s.io Lease), and
// while leading runs cluster-pool IPAM, LB IPAM, identity GC (kvstore or CRD)
// and stale endpoint GC. On stop a leader resigns so a standby takes over at once.
int run_operator(const OperatorConfig& cfg, const std::string& holder, const std::atomic<bool>& stop);

}  // namespace cpp::op
