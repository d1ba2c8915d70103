#include "agent/ipcache_owners.h"

namespace cpp::agent {

std::optional<uint32_t> IpcacheOwners::winner(const IpPrefix& key) const {
  auto it = claims_.find(key);
  if (it == claims_.end() || it->second.empty()) return std::nullopt;
  return it->second.rbegin()->second;
}

std::optional<uint32_t> IpcacheOwners::set(const IpPrefix& key, IpcacheSource src, uint32_t identity) {
  auto before = winner(key);
  claims_[key][src] = identity;
  auto after = winner(key);
  if (before == after) return std::nullopt;
  return after;
}

IpcacheOwners::Removal IpcacheOwners::remove(const IpPrefix& key, IpcacheSource src) {
  auto it = claims_.find(key);
  if (it == claims_.end() || !it->second.count(src)) return {};
  auto before = winner(key);
  it->second.erase(src);
  if (it->second.empty()) claims_.erase(it);
  auto after = winner(key);
  if (before == after) return {};
  return {true, after};
}

}  // namespace cpp::agent
