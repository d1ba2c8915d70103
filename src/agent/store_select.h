#pragma once
// Where the agent's resources live (brief decision 5): `kvstore: etcd` puts
// them in etcd (EtcdStore, shared by every node and the operator); otherwise
// they stay in the local directory `local-store-dir` (DirectoryStore).
#include <nlohmann/json.hpp>

#include <memory>

#include "config/agent_config.h"
#include "kvstore/etcd_client.h"
#include "store/store.h"

namespace cpp::agent {

struct StoreBackend {
  // The one etcd client of the agent (null without `kvstore: etcd`); other
  // subsystems (identity allocation, node registration) share it.
  std::shared_ptr<kvstore::EtcdClient> etcd;
  std::unique_ptr<store::ResourceStore> store;

  // For GET /v1/status: backend, endpoints and how many are connected. Never blocks.
  nlohmann::json status() const;

 private:
  friend StoreBackend make_resource_store(const config::AgentConfig& cfg);
  std::string local_dir_;
};

// Reads kvstore-opt's etcd.config when kvstore is etcd; a missing or invalid
// file throws std::invalid_argument naming it. Does not wait for etcd: an
// unreachable etcd shows up as errors of the store's calls (and as
// "connected": 0 in status()).
StoreBackend make_resource_store(const config::AgentConfig& cfg);

}  // namespace cpp::agent
