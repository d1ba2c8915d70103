#pragma once
#include <chrono>
#include <cstdint>
#include <string>

#include "config/config_dir.h"
#include "ipam/cluster_pool.h"

namespace cpp::op {

// The operator's typed view of the shared cilium-config directory, plus the
// few settings that only exist as operator flags. Defaults follow upstream.
struct OperatorConfig {
  std::string ipam_mode = "cluster-pool";
  ipam::ClusterPoolConfig pool;  // families the cluster enables
  std::string etcd_config;       // from kvstore-opt {"etcd.config": PATH}
  // K8s mode: the Kubernetes API holds the objects and the leader Lease
  // (k8s-kubeconfig-path set, or in a pod without a kvstore); no etcd.
  bool k8s = false;
  std::string kubeconfig_path;  // k8s-kubeconfig-path; "" in a pod: the service account
  double k8s_qps = 100;         // k8s-client-qps (the Helm chart's operator rate limit)
  int k8s_burst = 200;          // k8s-client-burst
  std::string healthz_addr = "127.0.0.1:9234";  // operator-api-serve-addr
  int64_t lease_ttl_seconds = 5;
  std::chrono::milliseconds identity_gc_interval = std::chrono::minutes(15);
  std::chrono::milliseconds identity_gc_grace = std::chrono::minutes(30);  // identity-heartbeat-timeout
  std::chrono::milliseconds endpoint_gc_interval = std::chrono::minutes(5);  // cilium-endpoint-gc-interval
  bool debug = false;
  bool enable_ipv4 = true, enable_ipv6 = false;  // families LB IPAM hands out
  bool enable_lb_ipam = true;                    // enable-lb-ipam
  bool enable_metrics = false;                   // enable-metrics
  std::string prometheus_addr = ":9963";         // operator-prometheus-serve-addr
};

// Throws std::invalid_argument naming the key when a value makes no sense
// for the operator (neither kvstore nor Kubernetes API, a mask size that
// does not fit the pool, ...). in_pod: KUBERNETES_SERVICE_HOST is set (the
// service account then reaches the API when no kvstore is configured).
// K8s mode's leader lease defaults to upstream's 15 s.
OperatorConfig make_operator_config(const config::ConfigDir& dir, bool in_pod = false);

// "etcd.config" from a kvstore-opt value: JSON ({"etcd.config": "/p"}) or
// upstream's "etcd.config=/p,key=value" form. "" when absent.
std::string etcd_config_from_kvstore_opt(const std::string& value);

}  // namespace cpp::op
