#pragma once
// identity-allocation-mode: kvstore. Cluster identities are allocated in etcd
// with upstream's key layout:
//   cilium/state/identities/v1/id/<id>              -> "k8s:a=b;k8s:c=d;" (no lease)
//   cilium/state/identities/v1/value/<labels>/<node> -> "<id>" (the node's session lease)
// A node's value key exists while any local user holds the identity, so a
// dead node's references vanish with its lease; the operator deletes id keys
// that stay unreferenced (identity GC). The id prefix is watched so every
// node knows the labels of identities allocated elsewhere (cross-node policy).
// CIDR identities stay node-local (a LocalAllocator with its own state file).
#include <chrono>
#include <memory>
#include <string>

#include "identity/identity.h"

namespace cpp::kvstore {
class EtcdClient;
}

namespace cpp::identity {

struct KvstoreAllocatorOptions {
  std::string node;             // value-key suffix; must not contain '/'
  std::string state_file;       // this node's references ("" = in memory)
  std::string cidr_state_file;  // node-local CIDR identities ("" = in memory)
  bool world_split = false;
  NumericIdentity cluster_min = kClusterMin;
  NumericIdentity cluster_max = kClusterMax;
  int64_t lease_ttl_seconds = 15;
  // Pause between attempts of the background sync while etcd is unreachable.
  std::chrono::milliseconds retry_interval{1000};
};

class KvstoreAllocator : public IdentityAllocator {
 public:
  // Never blocks on etcd: references restored from the state file are usable
  // at once, and a background thread lists, watches and re-writes this node's
  // keys as soon as etcd answers.
  KvstoreAllocator(kvstore::EtcdClient& etcd, KvstoreAllocatorOptions opts);
  ~KvstoreAllocator() override;

  // Labels known cluster-wide (or held here) resolve without a write when the
  // node already references them; otherwise etcd is asked, and a failure to
  // reach it throws (kvstore::Unavailable) unless the labels are known.
  Allocation allocate(const labels::LabelSet& ls, const std::string& user) override;
  Allocation allocate_cidr(const IpPrefix& prefix, const std::string& user) override;
  // true when this node no longer holds the identity; its value key is then
  // deleted in the background (release never waits for etcd).
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
  // Waits up to `timeout` for synced().
  bool wait_synced(std::chrono::milliseconds timeout) const;
  // The session lease this node's references are written with (0 = none yet).
  int64_t lease_id() const;

  // Stops the background thread and revokes the session lease, so this
  // node's references vanish at once (the agent never does this on
  // shutdown: a restarted agent keeps its identities).
  void shutdown(bool revoke_lease);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "cilium/state/identities/v1/value/<labels>/<node>" split into its parts;
// nullopt when the key does not have that shape.
struct ValueKey {
  std::string labels;
  std::string node;
};
std::optional<ValueKey> parse_value_key(const std::string& key);
// The numeric id of "cilium/state/identities/v1/id/<id>"; nullopt when malformed.
std::optional<NumericIdentity> parse_id_key(const std::string& key);

}  // namespace cpp::identity
