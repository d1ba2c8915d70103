#pragma once
#include <atomic>
#include <string>

#include "operator/operator_config.h"

namespace cpp::op {

// Runs cilium-operator-generic until `stop`: connects to etcd, serves
// /healthz, campaigns for leadership, and while leading runs cluster-pool
// IPAM, LB IPAM, identity GC and stale endpoint GC. On stop a leader resigns (its
// lease is revoked) so a standby takes over at once.
int run_operator(const OperatorConfig& cfg, const std::string& holder, const std::atomic<bool>& stop);

}  // namespace cpp::op
