#pragma once
// Where the agent's resources live (brief decision 5): `kvstore: etcd` puts
// them in etcd (EtcdStore, shared by every node and the operator);
// `k8s-kubeconfig-path` (or running in a pod) makes them Kubernetes API
// objects (KubeStore); otherwise they stay in the local directory
// `local-store-dir` (DirectoryStore).
#include <nlohmann/json.hpp>

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "agent/kube_heartbeat.h"
#include "k8s/client/kube_client.h"

#include "config/agent_config.h"
#include "kvstore/etcd_client.h"
#include "store/store.h"

namespace cpp::agent {

struct StoreBackend {
  // The one etcd client of the agent (null without `kvstore: etcd`); other
  // subsystems (identity allocation, node registration) share it.
  std::shared_ptr<kvstore::EtcdClient> etcd;
  // The Kubernetes API client and its heartbeat (null unless in K8s mode).
  std::shared_ptr<k8s::KubeClient> kube;
  std::unique_ptr<KubeHeartbeat> heartbeat;
  std::unique_ptr<store::ResourceStore> store;

  // K8s mode: blocks (retrying with backoff, logging each failure) until the
  // API answers, then starts the heartbeat; false when stop was set first.
  // Other modes: true at once.
  bool wait_until_reachable(const std::atomic<bool>& stop);
  // Why the agent is not ready because of its store (API silent for longer
  // than k8s-heartbeat-timeout, or no etcd member connected).
  std::optional<std::string> not_ready_reason() const;

  // For GET /v1/status: backend, endpoints and how many are connected. Never blocks.
  nlohmann::json status() const;
  // For GET /v1/status "kubernetes" (null outside K8s mode).
  nlohmann::json kubernetes_status() const;

 private:
  friend StoreBackend make_resource_store(const config::AgentConfig& cfg);
  std::string local_dir_;
};

// Reads kvstore-opt's etcd.config when kvstore is etcd (or the kubeconfig in
// K8s mode); a missing or invalid file throws std::invalid_argument naming it. Does not wait for etcd: an
// unreachable etcd shows up as errors of the store's calls (and as
// "connected": 0 in status()).
StoreBackend make_resource_store(const config::AgentConfig& cfg);

}  // namespace cpp::agent
