#include "ipam/cluster_pool.h"

namespace cpp::ipam {
namespace {

using u128 = unsigned __int128;

u128 to_u128(const IpAddr& a) {
  u128 v = 0;
  int n = a.v6 ? 16 : 4;
  for (int i = 0; i < n; ++i) v = (v << 8) | a.bytes[i];
  return v;
}

IpAddr from_u128(u128 v, bool v6) {
  IpAddr a;
  a.v6 = v6;
  int n = v6 ? 16 : 4;
  for (int i = n - 1; i >= 0; --i) {
    a.bytes[i] = static_cast<uint8_t>(v & 0xff);
    v >>= 8;
  }
  return a;
}

// Block counts above 2^32 are capped: no cluster has that many nodes, and
// the cap keeps the index arithmetic in 64 bits.
constexpr int kMaxIndexBits = 32;

}  // namespace

CidrSet::CidrSet(IpPrefix pool, int mask_size) : pool_(pool), mask_(mask_size) {
  int bits = pool.addr.bits();
  if (mask_size < pool.len || mask_size > bits)
    throw std::invalid_argument("mask size " + std::to_string(mask_size) + " does not fit pool " + pool.str() +
                                " (must be " + std::to_string(pool.len) + ".." + std::to_string(bits) + ")");
  int index_bits = mask_size - pool.len;
  capacity_ = uint64_t{1} << std::min(index_bits, kMaxIndexBits);
}

IpPrefix CidrSet::block(uint64_t index) const {
  int bits = pool_.addr.bits();
  u128 base = to_u128(pool_.addr);
  u128 off = static_cast<u128>(index) << (bits - mask_);
  return IpPrefix{from_u128(base + off, pool_.addr.v6), mask_};
}

std::optional<uint64_t> CidrSet::index_of(const IpPrefix& cidr) const {
  if (cidr.addr.v6 != pool_.addr.v6 || cidr.len != mask_ || !pool_.contains(cidr.addr)) return std::nullopt;
  int bits = pool_.addr.bits();
  u128 rel = to_u128(cidr.addr) - to_u128(pool_.addr);
  if (rel & ((static_cast<u128>(1) << (bits - mask_)) - 1)) return std::nullopt;  // host bits set
  u128 index = rel >> (bits - mask_);
  if (index >= capacity_) return std::nullopt;
  return static_cast<uint64_t>(index);
}

bool CidrSet::contains(const IpPrefix& cidr) const {
  return cidr.addr.v6 == pool_.addr.v6 && cidr.len >= pool_.len && pool_.contains(cidr.addr);
}

IpPrefix CidrSet::allocate(const std::string& node) {
  if (auto it = by_node_.find(node); it != by_node_.end()) return block(it->second);
  uint64_t cand = 0;
  for (const auto& [idx, owner] : owner_of_) {
    if (idx != cand) break;
    ++cand;
  }
  if (cand >= capacity_)
    throw PoolExhausted("pool " + pool_.str() + " is exhausted: all " + std::to_string(capacity_) + " /" +
                        std::to_string(mask_) + " blocks are assigned");
  owner_of_[cand] = node;
  by_node_[node] = cand;
  return block(cand);
}

std::string CidrSet::restore(const std::string& node, const IpPrefix& cidr) {
  auto idx = index_of(cidr);
  if (!idx)
    return cidr.str() + " is not a /" + std::to_string(mask_) + " block of pool " + pool_.str();
  if (auto it = owner_of_.find(*idx); it != owner_of_.end()) {
    if (it->second == node) return "";
    return cidr.str() + " is already assigned to node " + it->second;
  }
  // The node's object is the truth about its own block: a different block
  // recorded earlier (the node was re-created) is given back.
  if (auto it = by_node_.find(node); it != by_node_.end() && it->second != *idx) owner_of_.erase(it->second);
  owner_of_[*idx] = node;
  by_node_[node] = *idx;
  return "";
}

bool CidrSet::release(const std::string& node) {
  auto it = by_node_.find(node);
  if (it == by_node_.end()) return false;
  owner_of_.erase(it->second);
  by_node_.erase(it);
  return true;
}

std::optional<IpPrefix> CidrSet::of(const std::string& node) const {
  auto it = by_node_.find(node);
  if (it == by_node_.end()) return std::nullopt;
  return block(it->second);
}

ClusterPool::ClusterPool(const ClusterPoolConfig& cfg) {
  if (cfg.ipv4) {
    if (cfg.ipv4->addr.v6) throw std::invalid_argument("cluster-pool-ipv4-cidr: " + cfg.ipv4->str() + " is not IPv4");
    try {
      v4_.emplace(*cfg.ipv4, cfg.ipv4_mask);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(std::string("cluster-pool-ipv4-mask-size: ") + e.what());
    }
  }
  if (cfg.ipv6) {
    if (!cfg.ipv6->addr.v6) throw std::invalid_argument("cluster-pool-ipv6-cidr: " + cfg.ipv6->str() + " is not IPv6");
    try {
      v6_.emplace(*cfg.ipv6, cfg.ipv6_mask);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(std::string("cluster-pool-ipv6-mask-size: ") + e.what());
    }
  }
}

std::vector<IpPrefix> ClusterPool::allocate(const std::string& node, bool want_ipv4, bool want_ipv6) {
  std::vector<IpPrefix> out;
  bool do_v4 = v4_ && want_ipv4, do_v6 = v6_ && want_ipv6;
  bool had_v4 = do_v4 && v4_->of(node);
  if (do_v4) out.push_back(v4_->allocate(node));
  if (do_v6) {
    try {
      out.push_back(v6_->allocate(node));
    } catch (...) {
      if (do_v4 && !had_v4) v4_->release(node);
      throw;
    }
  }
  return out;
}

std::vector<std::string> ClusterPool::restore(const std::string& node, const std::vector<IpPrefix>& cidrs) {
  std::vector<std::string> problems;
  for (const auto& c : cidrs) {
    auto& set = c.addr.v6 ? v6_ : v4_;
    if (!set || !set->contains(c)) continue;
    if (auto why = set->restore(node, c); !why.empty()) problems.push_back(why);
  }
  return problems;
}

void ClusterPool::release(const std::string& node) {
  if (v4_) v4_->release(node);
  if (v6_) v6_->release(node);
}

std::vector<IpPrefix> ClusterPool::of(const std::string& node) const {
  std::vector<IpPrefix> out;
  if (v4_)
    if (auto c = v4_->of(node)) out.push_back(*c);
  if (v6_)
    if (auto c = v6_->of(node)) out.push_back(*c);
  return out;
}

bool ClusterPool::complete(const std::string& node) const {
  return (!v4_ || v4_->of(node)) && (!v6_ || v6_->of(node));
}

}  // namespace cpp::ipam
