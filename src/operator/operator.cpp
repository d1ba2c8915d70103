#include "operator/operator.h"

#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "common/log.h"
#include "operator/crd_identity_gc.h"
#include "operator/endpoint_gc.h"
#include "operator/health.h"
#include "operator/identity_gc.h"
#include "operator/ipam_controller.h"
#include "operator/lbipam_controller.h"
#include "operator/operator_backend.h"
#include "operator/operator_metrics.h"
#include "metrics/server.h"

namespace cpp::op {

namespace {

using Clock = std::chrono::steady_clock;

void sleep_unless(const std::atomic<bool>& stop, std::chrono::milliseconds d) {
  auto until = Clock::now() + d;
  while (!stop && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

// The leader's work; returns when leadership is lost or stop is set.
void lead(const OperatorConfig& cfg, OperatorBackend& backend, Elector& election, OperatorMetrics& metrics,
          const std::atomic<bool>& stop) {
  store::ResourceStore& store = *backend.store;
  std::unique_ptr<IpamController> ipam;
  std::unique_ptr<LbIpamController> lb_ipam;
  IdentityGcTracker id_gc(cfg.identity_gc_grace);
  CrdIdentityGcState crd_id_gc(cfg.identity_gc_grace);
  EndpointGc ep_gc;
  auto next_id_gc = Clock::now() + cfg.identity_gc_interval;
  auto next_ep_gc = Clock::now() + cfg.endpoint_gc_interval;
  while (!stop && election.leading()) {
    try {
      if (!ipam && cfg.ipam_mode == "cluster-pool") {
        auto c = std::make_unique<IpamController>(store, cfg.pool);
        c->start();
        ipam = std::move(c);
      }
      if (!lb_ipam && cfg.enable_lb_ipam) {
        auto c = std::make_unique<LbIpamController>(store, cfg.enable_ipv4, cfg.enable_ipv6);
        c->set_pass_observer([&metrics](const LbIpamStats& s) { metrics.lbipam_pass(s); });
        c->start();
        lb_ipam = std::move(c);
      }
      if (Clock::now() >= next_id_gc) {
        next_id_gc = Clock::now() + cfg.identity_gc_interval;
        auto started = Clock::now();
        size_t alive = 0;
        try {
          // kvstore identities in etcd; CiliumIdentity objects in K8s mode.
          size_t deleted = backend.etcd ? run_identity_gc(*backend.etcd, id_gc, &alive).size()
                                        : run_crd_identity_gc(store, crd_id_gc, started, &alive).size();
          metrics.identity_gc_run(true, alive, deleted, Clock::now() - started);
        } catch (...) {
          metrics.identity_gc_run(false, 0, 0, Clock::now() - started);
          throw;
        }
      }
      if (Clock::now() >= next_ep_gc) {
        next_ep_gc = Clock::now() + cfg.endpoint_gc_interval;
        try {
          metrics.endpoint_gc_run(true, ep_gc.run(store));
        } catch (...) {
          metrics.endpoint_gc_run(false, 0);
          throw;
        }
      }
    } catch (const std::exception& e) {
      spdlog::warn("operator: {}; retrying", e.what());
      sleep_unless(stop, std::chrono::seconds(1));
    }
    sleep_unless(stop, std::chrono::milliseconds(100));
  }
  if (lb_ipam) lb_ipam->stop();
  if (ipam) ipam->stop();
}

}  // namespace

int run_operator(const OperatorConfig& cfg, const std::string& holder, const std::atomic<bool>& stop) {
  auto backend = make_backend(cfg);

  // Metrics first: a busy metrics port stops the operator before anything
  // else has started.
  metrics::Registry registry;
  OperatorMetrics op_metrics(registry);
  std::optional<metrics::MetricsServer> metrics_server;
  if (cfg.enable_metrics) {
    metrics_server.emplace(cfg.prometheus_addr, registry);
    metrics_server->start();
  }

  std::atomic<bool> leader{false};
  std::atomic<bool> api_ok{false};
  const std::string unreachable = backend.api + " unreachable";
  std::thread prober([&] {
    while (!stop) {
      api_ok = backend.reachable();
      sleep_unless(stop, std::chrono::seconds(1));
    }
  });
  OperatorHealth health(cfg.healthz_addr, [&] {
    return OperatorHealth::Status{api_ok.load(), leader.load(), api_ok ? "" : unreachable};
  });
  try {
    health.start();
  } catch (...) {
    const_cast<std::atomic<bool>&>(stop) = true;
    prober.join();
    throw;
  }
  spdlog::info("operator {} up: health on {}, {} {}", holder, cfg.healthz_addr, backend.api, backend.endpoint);

  auto elector = backend.elector(holder, cfg.lease_ttl_seconds);
  Elector& election = *elector;
  while (!stop) {
    if (!election.campaign(stop)) break;
    spdlog::info("operator {} is the leader", holder);
    leader = true;
    lead(cfg, backend, election, op_metrics, stop);
    leader = false;
    if (stop) {
      election.resign();
      spdlog::info("operator {} resigned", holder);
    } else {
      spdlog::warn("operator {} lost leadership (lease expired); campaigning again", holder);
    }
  }
  if (metrics_server) metrics_server->stop();
  health.stop();
  prober.join();
  return 0;
}

}  // namespace cpp::op
