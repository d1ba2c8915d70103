#pragma once
// identity-allocation-mode → allocator: "crd" (the default) makes
// CiliumIdentity objects through the Kubernetes API in K8s mode
// (CrdAllocator) and keeps the node-local LocalAllocator otherwise;
// "kvstore" allocates cluster identities in etcd (KvstoreAllocator). Both
// cluster allocators let nodes agree on ids and see each other's labels.
#include <memory>

#include "config/agent_config.h"
#include "identity/identity.h"

namespace cpp::kvstore {
class EtcdClient;
}
namespace cpp::store {
class ResourceStore;
}

namespace cpp::agent {

// Throws std::invalid_argument when kvstore mode is asked for without an
// etcd client (no `kvstore: etcd` configured). kube_store: the agent's
// KubeStore in K8s mode, else null.
std::unique_ptr<identity::IdentityAllocator> make_identity_allocator(const config::AgentConfig& cfg,
                                                                     kvstore::EtcdClient* etcd,
                                                                     store::ResourceStore* kube_store);

}  // namespace cpp::agent
