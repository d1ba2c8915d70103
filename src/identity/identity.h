#pragma once
// Numeric security identities (brief §1 "identities"; upstream pkg/identity).
//
//   0            unknown / "any peer" in policy map keys
//   1..8         reserved: host, world, unmanaged, health, init, remote-node,
//                kube-apiserver, ingress
//   9, 10        world-ipv4 / world-ipv6, only when the world is split by family
//   256..65535   cluster identities (labels → id, shared by the whole cluster)
//   1<<24 | n    node-local identities (CIDR identities), never leave the node
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip.h"
#include "labels/labels.h"

namespace cpp::identity {

using NumericIdentity = uint32_t;

inline constexpr NumericIdentity kUnknown = 0;
inline constexpr NumericIdentity kHost = 1;
inline constexpr NumericIdentity kWorld = 2;
inline constexpr NumericIdentity kUnmanaged = 3;
inline constexpr NumericIdentity kHealth = 4;
inline constexpr NumericIdentity kInit = 5;
inline constexpr NumericIdentity kRemoteNode = 6;
inline constexpr NumericIdentity kKubeAPIServer = 7;
inline constexpr NumericIdentity kIngress = 8;
inline constexpr NumericIdentity kWorldIPv4 = 9;
inline constexpr NumericIdentity kWorldIPv6 = 10;
inline constexpr NumericIdentity kClusterMin = 256;
inline constexpr NumericIdentity kClusterMax = 65535;
inline constexpr NumericIdentity kLocalScope = 1u << 24;
inline constexpr NumericIdentity kLocalMax = kLocalScope | 0xffffffu;

struct ReservedIdentity {
  NumericIdentity id;
  std::string name;  // "host", "world", ...
  labels::LabelSet labels;
};

// Reserved identities; 9 and 10 only when world_split.
const std::vector<ReservedIdentity>& reserved_identities(bool world_split = false);
bool is_reserved(NumericIdentity id);  // 1..10
bool is_local_scope(NumericIdentity id);
bool is_cluster(NumericIdentity id);  // 256..65535 (cluster-id 0)
std::optional<NumericIdentity> reserved_by_name(std::string_view name);
// "host", "world", ...; "" for non-reserved ids.
std::string reserved_name(NumericIdentity id);
// The reserved identity a label set stands for: an exact reserved label set,
// or any set carrying reserved:host (upstream: the host keeps its node labels).
std::optional<NumericIdentity> reserved_for_labels(const labels::LabelSet& ls, bool world_split = false);

struct IdentityRecord {
  NumericIdentity id = 0;
  labels::LabelSet labels;
  std::vector<std::string> users;  // sorted; empty for reserved identities
};

struct IdentityEvent {
  enum class Type { Added, Removed };
  Type type;
  NumericIdentity id;
  labels::LabelSet labels;
};
using IdentityObserver = std::function<void(const IdentityEvent&)>;

// Allocation of identities for label sets, with per-user reference counting:
// an identity lives while at least one user holds it. Users are free-form
// strings naming the holder ("endpoint:12", "policy-cidr"); allocating twice
// for the same user is idempotent. Reserved label sets resolve to their
// reserved id without allocating. Implementations are thread-safe; observers
// run on the calling thread after the change, outside the allocator's lock,
// one at a time, and must not call back into the allocator.
class IdentityAllocator {
 public:
  struct Allocation {
    NumericIdentity id = 0;
    bool is_new = false;  // the identity did not exist before this call
  };

  virtual ~IdentityAllocator() = default;

  // Identity for a label set (a cluster identity unless the set is reserved).
  // Throws std::invalid_argument for an empty set, std::runtime_error when exhausted.
  virtual Allocation allocate(const labels::LabelSet& ls, const std::string& user) = 0;
  // Node-local CIDR identity for a prefix (labels: cidr_identity_labels). A /0
  // prefix resolves to the world identity without allocating.
  virtual Allocation allocate_cidr(const IpPrefix& prefix, const std::string& user) = 0;
  // Drops the user's reference; true when the identity was freed by this call.
  virtual bool release(NumericIdentity id, const std::string& user) = 0;
  // Drops every reference a user holds; returns the identities freed.
  virtual std::vector<NumericIdentity> release_user(const std::string& user) = 0;

  virtual std::optional<labels::LabelSet> lookup(NumericIdentity id) const = 0;
  virtual std::optional<NumericIdentity> lookup(const labels::LabelSet& ls) const = 0;
  virtual std::optional<IdentityRecord> get(NumericIdentity id) const = 0;
  // All identities by id; reserved ones included when asked.
  virtual std::vector<IdentityRecord> list(bool include_reserved = false) const = 0;

  // Called with Added for every existing identity (reserved ones included)
  // before this returns, then for every change. Returns a handle for remove_observer.
  virtual uint64_t add_observer(IdentityObserver cb) = 0;
  virtual void remove_observer(uint64_t handle) = 0;

  // true when the allocator itself keeps the CiliumIdentity objects in the
  // resource store (crd mode); otherwise the agent mirrors its identities
  // there for readers such as kubectl and Hubble.
  virtual bool owns_identity_objects() const { return false; }
};

struct LocalAllocatorOptions {
  std::string state_file;  // "" = in memory only
  bool world_split = false;
  NumericIdentity cluster_min = kClusterMin;
  NumericIdentity cluster_max = kClusterMax;
};

// The embedded backend: cluster identities from cluster_min upward (lowest
// free id), CIDR identities from (1<<24)+1 upward. Every change is written to
// the state file atomically, and a restarted allocator restores the same ids
// with their users, so ids stay stable across agent restarts (pinned maps keep
// referring to them). The etcd backend (multi-node) implements the same interface.
class LocalAllocator : public IdentityAllocator {
 public:
  // Restores from opts.state_file when it exists; throws std::runtime_error
  // naming the file when it cannot be parsed.
  explicit LocalAllocator(LocalAllocatorOptions opts = {});
  ~LocalAllocator() override;

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

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The CiliumIdentity object (cilium.io/v2) for a cluster identity, shaped like
// upstream's CRD backend: metadata.name = id, metadata.labels = the k8s-source
// labels without the "k8s:" prefix (namespace-label copies skipped, as they
// may be too long for a label key), security-labels = every label as
// "source:key" → value.
nlohmann::json cilium_identity_object(NumericIdentity id, const labels::LabelSet& ls);
// Inverse: (id, labels) from a CiliumIdentity object; throws std::invalid_argument.
std::pair<NumericIdentity, labels::LabelSet> parse_cilium_identity(const nlohmann::json& obj);

}  // namespace cpp::identity
