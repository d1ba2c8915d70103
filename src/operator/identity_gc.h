#pragma once
// Identity GC (identity-allocation-mode: kvstore): an id key that no node's
// value key references for longer than the grace period is deleted. The
// delete is guarded by the id key's mod_revision: a node that references the
// id re-puts its key, so a concurrent reference always wins over the GC.
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "identity/identity.h"
#include "kvstore/etcd_client.h"

namespace cpp::op {

struct GcCandidate {
  identity::NumericIdentity id = 0;
  int64_t mod_revision = 0;
};

// Remembers since when each id (at a given mod_revision) has been unreferenced.
class IdentityGcTracker {
 public:
  explicit IdentityGcTracker(std::chrono::steady_clock::duration grace) : grace_(grace) {}

  // One pass over a consistent snapshot of the id and value prefixes.
  // Returns the ids unreferenced for at least the grace period.
  std::vector<GcCandidate> pass(const std::vector<kvstore::KeyValue>& id_keys,
                                const std::vector<kvstore::KeyValue>& value_keys,
                                std::chrono::steady_clock::time_point now);
  size_t tracked() const { return since_.size(); }

 private:
  std::chrono::steady_clock::duration grace_;
  // id -> (mod_revision when first seen unused, since when)
  std::map<identity::NumericIdentity, std::pair<int64_t, std::chrono::steady_clock::time_point>> since_;
};

// Reads both prefixes in one transaction, runs the tracker and deletes the
// candidates. Returns the ids deleted; *alive (if given) gets the number of
// ids left.
std::vector<identity::NumericIdentity> run_identity_gc(kvstore::EtcdClient& etcd, IdentityGcTracker& tracker,
                                                       size_t* alive = nullptr);

}  // namespace cpp::op
