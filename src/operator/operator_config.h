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
// for the operator (no kvstore, a mask size that does not fit the pool, ...).
OperatorConfig make_operator_config(const config::ConfigDir& dir);

// "etcd.config" from a kvstore-opt value: JSON ({"etcd.config": "/p"}) or
// upstream's "etcd.config=/p,key=value" form. "" when absent.
std::string etcd_config_from_kvstore_opt(const std::string& value);

}  // namespace cpp::op
