#include "ipam/pool.h"

#include <algorithm>

namespace cpp::ipam {

namespace {
// A pod network never needs more than this many probes per allocation; huge
// IPv6 pools are treated as if they had this many addresses.
constexpr uint64_t kMaxScan = 1u << 20;
}  // namespace

Pool::Pool(IpPrefix cidr) : cidr_(cidr), size_(std::min<uint64_t>(cidr.size(), kMaxScan)) {}

bool Pool::usable_index(uint64_t i) const {
  if (i < 2) return false;                        // network address, router
  if (!cidr_.addr.v6 && i == size_ - 1 && size_ == cidr_.size()) return false;  // IPv4 broadcast
  return i < size_;
}

uint64_t Pool::capacity() const {
  uint64_t reserved = cidr_.addr.v6 ? 2 : 3;
  return size_ > reserved ? size_ - reserved : 0;
}

std::optional<IpAddr> Pool::allocate(const std::string& owner) {
  if (auto it = by_owner_.find(owner); it != by_owner_.end()) return it->second;
  for (uint64_t probe = 0; probe < size_; ++probe) {
    uint64_t i = (cursor_ + probe) % size_;
    if (!usable_index(i)) continue;
    IpAddr a = cidr_.nth(i);
    if (used_.count(a)) continue;
    used_.insert(a);
    by_owner_[owner] = a;
    cursor_ = (i + 1) % size_;
    return a;
  }
  return std::nullopt;
}

bool Pool::restore(const std::string& owner, const IpAddr& addr) {
  if (!cidr_.contains(addr) || used_.count(addr) || by_owner_.count(owner)) return false;
  for (uint64_t i : {uint64_t{0}, uint64_t{1}})
    if (cidr_.nth(i) == addr) return false;
  if (!cidr_.addr.v6 && size_ == cidr_.size() && cidr_.nth(size_ - 1) == addr) return false;
  used_.insert(addr);
  by_owner_[owner] = addr;
  return true;
}

std::optional<IpAddr> Pool::release(const std::string& owner) {
  auto it = by_owner_.find(owner);
  if (it == by_owner_.end()) return std::nullopt;
  IpAddr a = it->second;
  used_.erase(a);
  by_owner_.erase(it);
  return a;
}

std::optional<IpAddr> Pool::lookup(const std::string& owner) const {
  auto it = by_owner_.find(owner);
  if (it == by_owner_.end()) return std::nullopt;
  return it->second;
}

}  // namespace cpp::ipam
