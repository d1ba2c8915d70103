#pragma once
// EtcdStore: the ResourceStore of a cluster (kvstore mode, brief decision 5).
// Each object is JSON at <prefix><kind>/<namespace or _cluster>/<name>
// (prefix "cilium/resources/" by default), so every agent and the operator
// share one view through etcd.
//
// Semantics match DirectoryStore (see store.h): validation and normalization,
// uid/creationTimestamp kept, generation bumped when spec changes, Unchanged
// for an equal object, lists sorted by namespace then name. resourceVersion
// is the etcd mod_revision of the key; it is not stored inside the JSON but
// set on every object read, as the Kubernetes API server does.
//
// Concurrent writers: put is a read-modify-write guarded by the key's
// mod_revision, retried on conflict, so no writer's uid or generation is lost.
// Values that are not a valid object for their key are logged with the key
// and skipped (a watch reports a previously seen object that turned corrupt
// as Deleted).
//
// etcd unreachable: put/get/list/remove throw kvstore::Unavailable once the
// client's request_timeout passes. A write whose outcome is unknown (sent,
// then timed out) is settled by re-reading: put retries it under the same
// mod_revision guard, so it never applies twice, and throws
// kvstore::UnknownOutcome only after three such timeouts. A watch
// started while etcd is unreachable returns after at most the client's
// dial_timeout without the replay; its thread keeps trying and delivers the
// replay (Added for every existing object) as soon as etcd answers, then live
// events. Watches resume across member failures (EtcdClient::watch_prefix)
// and, when their revision was compacted, re-list and deliver the difference.
#include <memory>
#include <string>

#include "kvstore/etcd_client.h"
#include "store/store.h"

namespace cpp::store {

class EtcdStore : public ResourceStore {
 public:
  explicit EtcdStore(std::shared_ptr<kvstore::EtcdClient> etcd, std::string prefix = kvstore::keys::kResources);

  PutResult put(json obj) override;
  std::optional<json> get(const std::string& kind, const std::string& ns, const std::string& name) override;
  std::vector<json> list(const std::string& kind, const std::string& ns = "") override;
  bool remove(const std::string& kind, const std::string& ns, const std::string& name) override;
  bool remove_version(const std::string& kind, const std::string& ns, const std::string& name,
                      const std::string& resource_version) override;
  std::optional<PutResult> update(const std::string& kind, const std::string& ns, const std::string& name,
                                  const Mutator& mutate) override;
  bool create(json obj) override;
  std::unique_ptr<WatchHandle> watch(const std::string& kind, WatchCallback cb, WatchOptions opts = {}) override;

  // etcd key that holds (kind, ns, name).
  std::string key_for(const std::string& kind, const std::string& ns, const std::string& name) const;
  const std::string& prefix() const { return prefix_; }

 private:
  std::shared_ptr<kvstore::EtcdClient> etcd_;
  std::string prefix_;
};

}  // namespace cpp::store
