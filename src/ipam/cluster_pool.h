#pragma once
// Cluster-pool IPAM (upstream `ipam: cluster-pool`): the operator carves each
// node's PodCIDRs out of cluster-pool-ipv4-cidr / cluster-pool-ipv6-cidr in
// blocks of cluster-pool-ipv{4,6}-mask-size. Pure logic, no I/O: the operator
// rebuilds it from the PodCIDRs already recorded on CiliumNode objects.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/ip.h"

namespace cpp::ipam {

// Thrown when a family's pool has no free block left.
struct PoolExhausted : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The blocks of one family. Allocation takes the lowest free block, so the
// same sequence of events always yields the same CIDRs.
class CidrSet {
 public:
  // Throws std::invalid_argument when mask_size does not fit the pool.
  CidrSet(IpPrefix pool, int mask_size);

  const IpPrefix& pool() const { return pool_; }
  int mask_size() const { return mask_; }
  uint64_t capacity() const { return capacity_; }
  size_t used() const { return owner_of_.size(); }

  // The node's block; the same block when it already has one.
  IpPrefix allocate(const std::string& node);
  // Records a block found on a node (replacing a different block recorded
  // for it before). Returns "" on success, else why it was refused (outside
  // the pool, wrong size, held by another node).
  std::string restore(const std::string& node, const IpPrefix& cidr);
  // true when the node held a block.
  bool release(const std::string& node);
  std::optional<IpPrefix> of(const std::string& node) const;
  bool contains(const IpPrefix& cidr) const;

 private:
  IpPrefix block(uint64_t index) const;
  std::optional<uint64_t> index_of(const IpPrefix& cidr) const;

  IpPrefix pool_;
  int mask_;
  uint64_t capacity_;
  std::map<uint64_t, std::string> owner_of_;  // block index -> node
  std::map<std::string, uint64_t> by_node_;
};

struct ClusterPoolConfig {
  std::optional<IpPrefix> ipv4;  // nullopt: IPv4 not allocated
  int ipv4_mask = 24;
  std::optional<IpPrefix> ipv6;
  int ipv6_mask = 120;
};

// Both families together: a node gets one block per configured family.
class ClusterPool {
 public:
  explicit ClusterPool(const ClusterPoolConfig& cfg);

  // The node's blocks (IPv4 first) of the wanted configured families.
  // All-or-nothing across families; throws PoolExhausted naming the pool
  // when one family has no free block.
  std::vector<IpPrefix> allocate(const std::string& node, bool want_ipv4 = true, bool want_ipv6 = true);
  // Records the PodCIDRs a node already carries. CIDRs outside every pool are
  // not ours to manage and are skipped silently; the returned strings explain
  // CIDRs that were refused (overlap with another node, wrong size).
  std::vector<std::string> restore(const std::string& node, const std::vector<IpPrefix>& cidrs);
  void release(const std::string& node);
  std::vector<IpPrefix> of(const std::string& node) const;
  // true when the node has a block of every configured family.
  bool complete(const std::string& node) const;

  const std::optional<CidrSet>& v4() const { return v4_; }
  const std::optional<CidrSet>& v6() const { return v6_; }

 private:
  std::optional<CidrSet> v4_, v6_;
};

}  // namespace cpp::ipam
