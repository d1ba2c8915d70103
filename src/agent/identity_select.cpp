#include "agent/identity_select.h"

#include <stdexcept>

#include "common/log.h"
#include "identity/crd_allocator.h"
#include "identity/kvstore_allocator.h"

namespace cpp::agent {

std::unique_ptr<identity::IdentityAllocator> make_identity_allocator(const config::AgentConfig& cfg,
                                                                     kvstore::EtcdClient* etcd,
                                                                     store::ResourceStore* kube_store) {
  if (cfg.identity_allocation_mode == "crd" && kube_store) {
    identity::CrdAllocatorOptions o;
    o.node = cfg.node_name;
    o.state_file = cfg.state_dir + "/identities-crd.json";
    o.cidr_state_file = cfg.state_dir + "/identities-cidr.json";
    spdlog::info("identity allocation: crd (node {}); identities are CiliumIdentity objects", cfg.node_name);
    return std::make_unique<identity::CrdAllocator>(*kube_store, o);
  }
  if (cfg.identity_allocation_mode != "kvstore")
    return std::make_unique<identity::LocalAllocator>(identity::LocalAllocatorOptions{cfg.state_dir + "/identities.json"});
  if (!etcd)
    throw std::invalid_argument("config key 'identity-allocation-mode' is kvstore but no kvstore is configured "
                                "(set 'kvstore' to etcd and 'kvstore-opt' to {\"etcd.config\": PATH})");
  identity::KvstoreAllocatorOptions o;
  o.node = cfg.node_name;
  o.state_file = cfg.state_dir + "/identities-kvstore.json";
  o.cidr_state_file = cfg.state_dir + "/identities-cidr.json";
  auto a = std::make_unique<identity::KvstoreAllocator>(*etcd, o);
  spdlog::info("identity allocation: kvstore (node {}); identities of other nodes follow from etcd", cfg.node_name);
  return a;
}

}  // namespace cpp::agent
