#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "common/ip.h"

namespace cpp::ipam {

// Addresses of one PodCIDR handed out by owner. The first address after the
// network address is the node's router IP (cilium_host) and never given to a
// pod; for IPv4 the network and broadcast addresses are skipped too.
// Allocation is next-fit from a cursor so a just-released address is not the
// next one handed out (stale peers may still hold it in caches).
class Pool {
 public:
  explicit Pool(IpPrefix cidr);

  const IpPrefix& cidr() const { return cidr_; }
  IpAddr router() const { return cidr_.nth(1); }
  // Same owner gets the same address back; nullopt when the pool is exhausted.
  std::optional<IpAddr> allocate(const std::string& owner);
  // Restores a recorded allocation; false when the address is outside the pool,
  // reserved, or already held by someone else.
  bool restore(const std::string& owner, const IpAddr& addr);
  std::optional<IpAddr> release(const std::string& owner);
  std::optional<IpAddr> lookup(const std::string& owner) const;
  const std::map<std::string, IpAddr>& by_owner() const { return by_owner_; }
  uint64_t capacity() const;

 private:
  bool usable_index(uint64_t i) const;
  IpPrefix cidr_;
  uint64_t size_;
  uint64_t cursor_ = 2;
  std::map<std::string, IpAddr> by_owner_;
  std::set<IpAddr> used_;
};

}  // namespace cpp::ipam
