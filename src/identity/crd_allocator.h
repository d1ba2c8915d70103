#pragma once
// identity-allocation-mode: crd (upstream's default without a kvstore).
// Cluster identities are CiliumIdentity objects (cilium.io/v2, cluster-scoped,
// metadata.name = the id; shape: cilium_identity_object) in the ResourceStore,
// normally the Kubernetes API. Every node watches them, so all nodes know the
// labels of every identity (cross-node policy), and allocating labels some
// node already created reuses that object without a write. A new identity is
// claimed with ResourceStore::create at a random free id, retried at another
// id when the name is taken. Two nodes creating the same labels at once get
// two ids; as upstream, both stay valid (lookup by labels prefers the id this
// node holds, then the lowest).
//
// References are node-local (state file, so a restarted agent keeps its ids)
// and release never writes: the operator deletes identities no CiliumEndpoint
// uses (run_crd_identity_gc). An identity this node still holds that vanishes
// from the store is created again under the same id. CIDR identities stay
// node-local (a LocalAllocator with its own state file).
#include <chrono>
#include <memory>
#include <string>

#include "identity/identity.h"

namespace cpp::store {
class ResourceStore;
}

namespace cpp::identity {

struct CrdAllocatorOptions {
  std::string node;             // names this node in logs
  std::string state_file;       // this node's references ("" = in memory)
  std::string cidr_state_file;  // node-local CIDR identities ("" = in memory)
  bool world_split = false;
  NumericIdentity cluster_min = kClusterMin;
  NumericIdentity cluster_max = kClusterMax;
  // Pause between attempts of the background sync while the store fails.
  std::chrono::milliseconds retry_interval{1000};
  // How often every held identity is checked for in the store (and created
  // again when missing), besides reacting to delete events: a watch may miss
  // a delete (upstream: kvstore-periodic-sync, 5 minutes).
  std::chrono::milliseconds resync_interval{std::chrono::minutes(5)};
  // How long allocate() of labels this node does not hold waits for the
  // first list of CiliumIdentities (without it, it would create duplicates).
  std::chrono::milliseconds sync_timeout{30000};
};

class CrdAllocator : public IdentityAllocator {
 public:
  // Never blocks on the store: references restored from the state file are
  // usable at once; a background thread lists and watches CiliumIdentities
  // and re-creates held ones that are missing, as soon as the store answers.
  CrdAllocator(store::ResourceStore& store, CrdAllocatorOptions opts);
  ~CrdAllocator() override;
  bool owns_identity_objects() const override { return true; }

  // Throws std::runtime_error when the identities were not listed within
  // sync_timeout, or the store fails, unless this node holds the labels.
  Allocation allocate(const labels::LabelSet& ls, const std::string& user) override;
  Allocation allocate_cidr(const IpPrefix& prefix, const std::string& user) override;
  bool release(NumericIdentity id, const std::string& user) override;
  std::vector<NumericIdentity> release_user(const std::string& user) override;
  std::optional<labels::LabelSet> lookup(NumericIdentity id) const override;
  std::optional<NumericIdentity> lookup(const labels::LabelSet& ls) const override;
  std::optional<IdentityRecord> get(NumericIdentity id) const override;
  std::vector<IdentityRecord> list(bool include_reserved = false) const override;
  uint64_t add_observer(IdentityObserver cb) override;
  void remove_observer(uint64_t handle) override;

  // true once the cluster's identities were listed and the watch runs.
  bool synced() const;
  bool wait_synced(std::chrono::milliseconds timeout) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cpp::identity
