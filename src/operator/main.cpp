// cilium-operator-generic: cluster-wide duties (cluster-pool IPAM, identity
// and endpoint GC) for one leader among any number of replicas.
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <optional>

#include <CLI/CLI.hpp>

#include "common/log.h"
#include "common/version.h"
#include "config/config_dir.h"
#include "config/duration.h"
#include "operator/operator.h"

namespace {
std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

std::chrono::milliseconds ms(const std::string& v) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(cpp::config::parse_go_duration(v));
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ciliumpp operator"};
  std::string config_dir, healthz, id_gc_interval, id_gc_grace, ep_gc_interval, holder;
  int64_t lease_ttl = 0;
  app.add_option("--config-dir", config_dir, "directory with one file per configuration key")->required();
  app.add_option("--healthz-addr", healthz, "host:port of /healthz (default: operator-api-serve-addr or 127.0.0.1:9234)");
  app.add_option("--leader-lease-ttl", lease_ttl, "seconds the leader's lease lives without renewal (default 5; 15 against the Kubernetes API)");
  app.add_option("--identity-gc-interval", id_gc_interval, "how often identity GC runs (Go duration)");
  app.add_option("--identity-gc-grace", id_gc_grace, "how long an identity stays unreferenced before it is deleted");
  app.add_option("--endpoint-gc-interval", ep_gc_interval, "how often stale CiliumEndpoint GC runs");
  app.add_option("--id", holder, "this replica's name in the leader key (default: hostname-pid)");
  // The seed's Deployment passes --debug=$(CILIUM_DEBUG) (the ConfigMap's "debug").
  std::optional<bool> debug;
  app.add_option("--debug", debug, "debug logging (overrides the configuration's \"debug\")");
  app.set_version_flag("--version", std::string("cilium-operator-generic ") + cpp::kVersion);
  CLI11_PARSE(app, argc, argv);

  cpp::op::OperatorConfig cfg;
  try {
    auto dir = cpp::config::read_config_dir(config_dir);
    const char* in_pod = std::getenv("KUBERNETES_SERVICE_HOST");
    cfg = cpp::op::make_operator_config(dir, in_pod && *in_pod);
    if (!healthz.empty()) cfg.healthz_addr = healthz;
    if (debug) cfg.debug = *debug;
    if (lease_ttl != 0) {
      if (lease_ttl < 2) throw std::invalid_argument("--leader-lease-ttl must be at least 2 seconds");
      cfg.lease_ttl_seconds = lease_ttl;
    }
    if (!id_gc_interval.empty()) cfg.identity_gc_interval = ms(id_gc_interval);
    if (!id_gc_grace.empty()) cfg.identity_gc_grace = ms(id_gc_grace);
    if (!ep_gc_interval.empty()) cfg.endpoint_gc_interval = ms(ep_gc_interval);
  } catch (const std::exception& e) {
    std::cerr << "cilium-operator-generic: configuration error: " << e.what() << std::endl;
    return 2;
  }
  if (holder.empty()) {
    char host[256] = {};
    ::gethostname(host, sizeof(host) - 1);
    holder = std::string(host) + "-" + std::to_string(::getpid());
  }
  cpp::init_logging("cilium-operator", cfg.debug);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  std::signal(SIGPIPE, SIG_IGN);
  try {
    return cpp::op::run_operator(cfg, holder, g_stop);
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 1;
  }
}
