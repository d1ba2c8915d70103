#pragma once
// The operator's Prometheus metrics (upstream names, served on
// operator-prometheus-serve-addr when enable-metrics is true):
//   cilium_operator_identity_gc_entries{status,identity_type}   alive/deleted after the last run
//   cilium_operator_identity_gc_runs{outcome,identity_type}     runs so far (a gauge upstream)
//   cilium_operator_identity_gc_latency{outcome,identity_type}  seconds the last run took
//   cilium_operator_endpoint_gc_objects{outcome}                stale CiliumEndpoints deleted
//   cilium_operator_lbipam_conflicting_pools, _lbipam_ips_available{pool},
//   _lbipam_ips_used{pool}, _lbipam_services_matching, _lbipam_services_unsatisfied
//                                                               from the last LB IPAM pass
//   cilium_operator_process_*                                   /proc/self
#include <chrono>
#include <cstddef>
#include <mutex>

#include "metrics/registry.h"
#include "operator/lbipam_controller.h"

namespace cpp::op {

class OperatorMetrics {
 public:
  explicit OperatorMetrics(metrics::Registry& registry);

  void identity_gc_run(bool ok, size_t alive, size_t deleted, std::chrono::duration<double> took);
  void endpoint_gc_run(bool ok, size_t deleted);
  void lbipam_pass(const LbIpamStats& stats);

 private:
  metrics::GaugeFamily& gc_entries_;
  metrics::GaugeFamily& gc_runs_;
  metrics::GaugeFamily& gc_latency_;
  metrics::CounterFamily& ep_gc_;
  std::mutex mu_;
  bool have_lbipam_ = false;
  LbIpamStats lbipam_;  // the last pass: pools come and go, so it is rendered whole
};

}  // namespace cpp::op
