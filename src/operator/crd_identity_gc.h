#pragma once
// Identity GC for identity-allocation-mode: crd, as upstream's operator does
// it: a heartbeat per CiliumIdentity, renewed while some CiliumEndpoint uses
// it (status.identity.id) and when the object is created or changed; an
// identity whose heartbeat is older than the grace period
// (identity-heartbeat-timeout) is deleted. Agents never delete
// CiliumIdentities; an agent that still holds a deleted one creates it again.
#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "identity/identity.h"

namespace cpp::store {
class ResourceStore;
}

namespace cpp::op {

struct CrdIdentityGcState {
  explicit CrdIdentityGcState(std::chrono::steady_clock::duration g) : grace(g) {}

  struct Heartbeat {
    std::string resource_version;  // a new version restarts the clock
    std::chrono::steady_clock::time_point last;
  };
  std::chrono::steady_clock::duration grace;
  std::map<std::string, Heartbeat> heartbeats;  // CiliumIdentity name -> heartbeat
};

// One pass: lists CiliumEndpoints and CiliumIdentities, renews heartbeats and
// deletes the identities whose heartbeat is older than state.grace. Returns
// the ids deleted; *alive (if given) gets the number of identities left.
// A failing list throws before anything is deleted.
std::vector<identity::NumericIdentity> run_crd_identity_gc(store::ResourceStore& store, CrdIdentityGcState& state,
                                                           std::chrono::steady_clock::time_point now,
                                                           size_t* alive = nullptr);

}  // namespace cpp::op
