#pragma once
// identity-allocation-mode → allocator: "crd" (the default) keeps the
// node-local LocalAllocator; "kvstore" allocates cluster identities in etcd
// (KvstoreAllocator), which is what lets nodes agree on ids and see each
// other's labels.
#include <memory>

#include "config/agent_config.h"
#include "identity/identity.h"

namespace cpp::kvstore {
class EtcdClient;
}

namespace cpp::agent {

// Throws std::invalid_argument when kvstore mode is asked for without an
// etcd client (no `kvstore: etcd` configured).
std::unique_ptr<identity::IdentityAllocator> make_identity_allocator(const config::AgentConfig& cfg,
                                                                     kvstore::EtcdClient* etcd);

}  // namespace cpp::agent
