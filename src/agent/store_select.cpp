#include "agent/store_select.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>

#include "k8s/client/kube_config.h"
#include "k8s/client/kube_store.h"
#include "store/etcd_store.h"

namespace cpp::agent {

namespace {

// The API's address and credentials in K8s mode; nullopt outside it.
std::optional<k8s::KubeConfig> kube_config_of(const config::AgentConfig& cfg) {
  std::optional<k8s::KubeConfig> kc;
  if (!cfg.k8s_kubeconfig_path.empty()) {
    kc = k8s::load_kubeconfig(cfg.k8s_kubeconfig_path);
  } else if (cfg.kvstore.empty()) {
    kc = k8s::load_in_cluster();
  }
  if (kc && !cfg.k8s_api_server.empty()) kc->server = cfg.k8s_api_server;
  return kc;
}

}  // namespace

StoreBackend make_resource_store(const config::AgentConfig& cfg) {
  StoreBackend b;
  if (auto kc = kube_config_of(cfg)) {
    k8s::KubeClient::Options o;
    o.config = *kc;
    o.qps = cfg.k8s_client_qps;
    o.burst = cfg.k8s_client_burst;
    b.kube = std::make_shared<k8s::KubeClient>(o);
    b.heartbeat = std::make_unique<KubeHeartbeat>(b.kube, cfg.k8s_heartbeat_timeout);
    b.store = std::make_unique<k8s::KubeStore>(b.kube);
    spdlog::info("resources are Kubernetes API objects at {}", kc->server);
  } else if (cfg.kvstore == "etcd") {
    kvstore::EtcdOptions opts = kvstore::load_etcd_config(cfg.kvstore_etcd_config);
    b.etcd = std::make_shared<kvstore::EtcdClient>(opts);
    b.store = std::make_unique<store::EtcdStore>(b.etcd);
    std::string eps;
    for (const auto& e : opts.endpoints) eps += (eps.empty() ? "" : ",") + e;
    spdlog::info("resources in etcd [{}] under {}", eps, kvstore::keys::kResources);
  } else {
    b.local_dir_ = cfg.local_store_dir;
    b.store = std::make_unique<store::DirectoryStore>(cfg.local_store_dir);
    spdlog::info("resources in directory {}", cfg.local_store_dir);
  }
  return b;
}

bool StoreBackend::wait_until_reachable(const std::atomic<bool>& stop) {
  if (!heartbeat) return true;
  auto backoff = std::chrono::milliseconds(200);
  while (!heartbeat->probe()) {
    spdlog::warn("waiting for the Kubernetes API at {} (retry in {} ms)", kube->config().server, backoff.count());
    for (auto slept = std::chrono::milliseconds(0); slept < backoff; slept += std::chrono::milliseconds(100)) {
      if (stop) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    backoff = std::min<std::chrono::milliseconds>(backoff * 2, std::chrono::seconds(5));
  }
  heartbeat->start();
  return true;
}

std::optional<std::string> StoreBackend::not_ready_reason() const {
  if (heartbeat) return heartbeat->unreachable_reason();
  if (etcd && etcd->connected_endpoints() == 0) return "kvstore unreachable";
  return std::nullopt;
}

nlohmann::json StoreBackend::kubernetes_status() const {
  if (!kube) return nullptr;
  bool ok = heartbeat->answered_last();
  nlohmann::json j{{"state", ok ? "Ok" : "Unreachable"}, {"server", kube->config().server}, {"store", "KubeStore"}};
  if (auto why = heartbeat->unreachable_reason()) j["msg"] = *why;
  return j;
}

nlohmann::json StoreBackend::status() const {
  if (kube) return {{"type", "kubernetes"}, {"server", kube->config().server}};
  if (!etcd) return {{"type", "directory"}, {"dir", local_dir_}};
  const auto& eps = etcd->options().endpoints;
  size_t connected = etcd->connected_endpoints();
  return {{"type", "etcd"},
          {"endpoints", eps},
          {"connected", connected},
          {"state", connected > 0 ? "Ok" : "Unreachable"}};
}

}  // namespace cpp::agent
