#pragma once
// What the two cluster-wide allocators share (KvstoreAllocator: etcd keys;
// CrdAllocator: CiliumIdentity objects): the cluster's identities as last
// seen, this node's references, what observers were told, the node-local
// CIDR identities, and IdentityAllocator's read side over them. Each
// backend derives its state from this and owns how identities are written
// and synced.
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "identity/identity.h"

namespace cpp::identity {

struct ClusterIdentityCache {
  ClusterIdentityCache(const std::string& cidr_state_file, bool world_split);

  const bool world_split;
  LocalAllocator cidr;

  mutable std::mutex mu;
  mutable std::condition_variable cv;
  std::map<NumericIdentity, labels::LabelSet> cluster;              // the backend's identities as last seen
  std::map<std::string, std::set<NumericIdentity>> cluster_by_key;  // labels -> ids (normally one)
  std::map<NumericIdentity, IdentityRecord> held;                   // this node's references
  std::map<std::string, NumericIdentity> held_by_key;
  std::map<NumericIdentity, labels::LabelSet> known;  // cluster ∪ held: what observers were told

  std::map<uint64_t, IdentityObserver> observers;
  std::map<uint64_t, uint64_t> cidr_handles;
  uint64_t next_observer = 1;
  std::mutex notify_mu;

  // --- caller holds mu ---
  // Brings known[id] in line with held/cluster, queueing the events that says.
  void refresh_locked(NumericIdentity id, std::vector<IdentityEvent>& ev);
  void cluster_erase_locked(NumericIdentity id);
  void cluster_put_locked(NumericIdentity id, const labels::LabelSet& ls, std::vector<IdentityEvent>& ev);
  // The lowest cluster id with these labels (sorted_list() form).
  std::optional<NumericIdentity> cluster_lookup_locked(const std::string& key) const;

  // Without mu: tells every observer, one event stream at a time.
  void notify(const std::vector<IdentityEvent>& ev);

  // IdentityAllocator's read side. release_user drops the user's CIDR
  // references and calls `release` for each held identity it references.
  std::vector<NumericIdentity> release_user(const std::string& user,
                                            const std::function<bool(NumericIdentity)>& release);
  std::optional<labels::LabelSet> lookup(NumericIdentity id) const;
  std::optional<NumericIdentity> lookup(const labels::LabelSet& ls) const;
  std::optional<IdentityRecord> get(NumericIdentity id) const;
  std::vector<IdentityRecord> list(bool include_reserved) const;
  uint64_t add_observer(IdentityObserver cb);
  void remove_observer(uint64_t handle);
};

}  // namespace cpp::identity
