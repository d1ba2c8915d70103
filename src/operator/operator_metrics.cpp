#include "operator/operator_metrics.h"

#include "metrics/process.h"

namespace cpp::op {

namespace {
// The only identity backend the operator collects (upstream also has "crd").
constexpr const char* kKvstore = "kvstore";
}  // namespace

OperatorMetrics::OperatorMetrics(metrics::Registry& registry)
    : gc_entries_(registry.gauge("cilium_operator_identity_gc_entries",
                                 "The number of alive and deleted identities at the end of a garbage collector run",
                                 {"status", "identity_type"})),
      gc_runs_(registry.gauge("cilium_operator_identity_gc_runs",
                              "The number of times identity garbage collector has run", {"outcome", "identity_type"})),
      gc_latency_(registry.gauge("cilium_operator_identity_gc_latency",
                                 "The duration of the last successful identity GC run", {"outcome", "identity_type"})),
      ep_gc_(registry.counter("cilium_operator_endpoint_gc_objects",
                              "The number of times endpoint objects have been garbage-collected", {"outcome"})) {
  for (const char* o : {"success", "fail"}) {
    gc_runs_.with({o, kKvstore});
    ep_gc_.with({o});
  }
  registry.add_collector([this] {
    using metrics::FamilySnapshot;
    using metrics::Type;
    std::lock_guard lock(mu_);
    auto one = [](const char* name, const char* help, double v) {
      return FamilySnapshot{name, help, Type::Gauge, {{{}, v, ""}}};
    };
    std::vector<FamilySnapshot> out;
    if (!have_lbipam_) return out;
    out.push_back(one("cilium_operator_lbipam_conflicting_pools", "The number of conflicting pools",
                      static_cast<double>(lbipam_.conflicting_pools)));
    out.push_back(one("cilium_operator_lbipam_services_matching", "The number of matching services",
                      static_cast<double>(lbipam_.services)));
    out.push_back(one("cilium_operator_lbipam_services_unsatisfied",
                      "The number of services which did not receive all requested IPs",
                      static_cast<double>(lbipam_.services_unsatisfied)));
    FamilySnapshot avail{"cilium_operator_lbipam_ips_available", "The number of IP addresses available in a given pool",
                         Type::Gauge, {}};
    FamilySnapshot used{"cilium_operator_lbipam_ips_used", "The number of IP addresses used in a given pool",
                        Type::Gauge, {}};
    for (const auto& [pool, ips] : lbipam_.pool_ips) {
      avail.samples.push_back({{{"pool", pool}}, ips.available, ""});
      used.samples.push_back({{{"pool", pool}}, ips.used, ""});
    }
    out.push_back(std::move(avail));
    out.push_back(std::move(used));
    return out;
  });
  metrics::add_process_collector(registry, "cilium_operator");
}

void OperatorMetrics::identity_gc_run(bool ok, size_t alive, size_t deleted, std::chrono::duration<double> took) {
  const char* outcome = ok ? "success" : "fail";
  gc_runs_.with({outcome, kKvstore}).inc();
  if (!ok) return;
  gc_entries_.with({"alive", kKvstore}).set(static_cast<double>(alive));
  gc_entries_.with({"deleted", kKvstore}).set(static_cast<double>(deleted));
  gc_latency_.with({outcome, kKvstore}).set(took.count());
}

void OperatorMetrics::endpoint_gc_run(bool ok, size_t deleted) {
  if (ok)
    ep_gc_.with({"success"}).inc(static_cast<double>(deleted));
  else
    ep_gc_.with({"fail"}).inc();
}

void OperatorMetrics::lbipam_pass(const LbIpamStats& stats) {
  std::lock_guard lock(mu_);
  lbipam_ = stats;
  have_lbipam_ = true;
}

}  // namespace cpp::op
