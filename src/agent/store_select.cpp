#include "agent/store_select.h"

#include <spdlog/spdlog.h>

#include "store/etcd_store.h"

namespace cpp::agent {

StoreBackend make_resource_store(const config::AgentConfig& cfg) {
  StoreBackend b;
  if (cfg.kvstore == "etcd") {
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

nlohmann::json StoreBackend::status() const {
  if (!etcd) return {{"type", "directory"}, {"dir", local_dir_}};
  const auto& eps = etcd->options().endpoints;
  size_t connected = etcd->connected_endpoints();
  return {{"type", "etcd"},
          {"endpoints", eps},
          {"connected", connected},
          {"state", connected > 0 ? "Ok" : "Unreachable"}};
}

}  // namespace cpp::agent
