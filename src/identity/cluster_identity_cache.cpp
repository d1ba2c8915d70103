#include "identity/cluster_identity_cache.h"

#include <algorithm>

namespace cpp::identity {

using labels::LabelSet;

ClusterIdentityCache::ClusterIdentityCache(const std::string& cidr_state_file, bool ws)
    : world_split(ws), cidr(LocalAllocatorOptions{cidr_state_file, ws}) {}

void ClusterIdentityCache::refresh_locked(NumericIdentity id, std::vector<IdentityEvent>& ev) {
  std::optional<LabelSet> now;
  if (auto h = held.find(id); h != held.end())
    now = h->second.labels;
  else if (auto c = cluster.find(id); c != cluster.end())
    now = c->second;
  auto it = known.find(id);
  if (now && it == known.end()) {
    known[id] = *now;
    ev.push_back({IdentityEvent::Type::Added, id, *now});
  } else if (!now && it != known.end()) {
    ev.push_back({IdentityEvent::Type::Removed, id, it->second});
    known.erase(it);
  } else if (now && it->second != *now) {
    ev.push_back({IdentityEvent::Type::Removed, id, it->second});
    ev.push_back({IdentityEvent::Type::Added, id, *now});
    it->second = *now;
  }
}

void ClusterIdentityCache::cluster_erase_locked(NumericIdentity id) {
  auto it = cluster.find(id);
  if (it == cluster.end()) return;
  auto k = cluster_by_key.find(it->second.sorted_list());
  if (k != cluster_by_key.end()) {
    k->second.erase(id);
    if (k->second.empty()) cluster_by_key.erase(k);
  }
  cluster.erase(it);
}

void ClusterIdentityCache::cluster_put_locked(NumericIdentity id, const LabelSet& ls, std::vector<IdentityEvent>& ev) {
  cluster_erase_locked(id);
  cluster[id] = ls;
  cluster_by_key[ls.sorted_list()].insert(id);
  refresh_locked(id, ev);
}

std::optional<NumericIdentity> ClusterIdentityCache::cluster_lookup_locked(const std::string& key) const {
  auto it = cluster_by_key.find(key);
  if (it == cluster_by_key.end() || it->second.empty()) return std::nullopt;
  return *it->second.begin();
}

void ClusterIdentityCache::notify(const std::vector<IdentityEvent>& ev) {
  if (ev.empty()) return;
  std::lock_guard<std::mutex> nl(notify_mu);
  std::vector<IdentityObserver> obs;
  {
    std::lock_guard<std::mutex> l(mu);
    for (auto& [h, cb] : observers) obs.push_back(cb);
  }
  for (const auto& e : ev)
    for (auto& cb : obs) cb(e);
}

std::vector<NumericIdentity> ClusterIdentityCache::release_user(const std::string& user,
                                                                const std::function<bool(NumericIdentity)>& release) {
  std::vector<NumericIdentity> freed = cidr.release_user(user);
  std::vector<NumericIdentity> ids;
  {
    std::lock_guard<std::mutex> l(mu);
    for (const auto& [id, rec] : held)
      if (std::binary_search(rec.users.begin(), rec.users.end(), user)) ids.push_back(id);
  }
  for (auto id : ids)
    if (release(id)) freed.push_back(id);
  return freed;
}

std::optional<LabelSet> ClusterIdentityCache::lookup(NumericIdentity id) const {
  if (is_local_scope(id)) return cidr.lookup(id);
  for (const auto& r : reserved_identities(world_split))
    if (r.id == id) return r.labels;
  std::lock_guard<std::mutex> l(mu);
  auto it = known.find(id);
  if (it == known.end()) return std::nullopt;
  return it->second;
}

std::optional<NumericIdentity> ClusterIdentityCache::lookup(const LabelSet& ls) const {
  if (auto r = reserved_for_labels(ls, world_split)) return r;
  for (const auto& l : ls)
    if (l.source == labels::kSourceCidr) return cidr.lookup(ls);
  auto key = ls.sorted_list();
  std::lock_guard<std::mutex> l(mu);
  if (auto it = held_by_key.find(key); it != held_by_key.end()) return it->second;
  return cluster_lookup_locked(key);
}

std::optional<IdentityRecord> ClusterIdentityCache::get(NumericIdentity id) const {
  if (is_local_scope(id)) return cidr.get(id);
  for (const auto& r : reserved_identities(world_split))
    if (r.id == id) return IdentityRecord{r.id, r.labels, {}};
  std::lock_guard<std::mutex> l(mu);
  if (auto h = held.find(id); h != held.end()) return h->second;
  auto it = known.find(id);
  if (it == known.end()) return std::nullopt;
  return IdentityRecord{id, it->second, {}};
}

std::vector<IdentityRecord> ClusterIdentityCache::list(bool include_reserved) const {
  std::vector<IdentityRecord> out;
  if (include_reserved)
    for (const auto& r : reserved_identities(world_split)) out.push_back({r.id, r.labels, {}});
  {
    std::lock_guard<std::mutex> l(mu);
    for (const auto& [id, ls] : known) {
      auto h = held.find(id);
      out.push_back(h != held.end() ? h->second : IdentityRecord{id, ls, {}});
    }
  }
  for (auto& r : cidr.list(false)) out.push_back(std::move(r));
  return out;
}

uint64_t ClusterIdentityCache::add_observer(IdentityObserver cb) {
  uint64_t h;
  {
    std::lock_guard<std::mutex> nl(notify_mu);
    std::vector<IdentityEvent> existing;
    {
      std::lock_guard<std::mutex> l(mu);
      h = next_observer++;
      observers[h] = cb;
      for (const auto& r : reserved_identities(world_split))
        existing.push_back({IdentityEvent::Type::Added, r.id, r.labels});
      for (const auto& [id, ls] : known) existing.push_back({IdentityEvent::Type::Added, id, ls});
    }
    for (const auto& e : existing) cb(e);
  }
  // CIDR events pass through notify_mu too, so an observer never runs twice
  // at once. The CIDR allocator replays the reserved identities as well;
  // they were sent above.
  uint64_t ch = cidr.add_observer([this, cb](const IdentityEvent& e) {
    if (is_reserved(e.id)) return;
    std::lock_guard<std::mutex> nl(notify_mu);
    cb(e);
  });
  std::lock_guard<std::mutex> l(mu);
  cidr_handles[h] = ch;
  return h;
}

void ClusterIdentityCache::remove_observer(uint64_t handle) {
  uint64_t ch = 0;
  {
    std::lock_guard<std::mutex> nl(notify_mu);
    std::lock_guard<std::mutex> l(mu);
    observers.erase(handle);
    if (auto it = cidr_handles.find(handle); it != cidr_handles.end()) {
      ch = it->second;
      cidr_handles.erase(it);
    }
  }
  if (ch) cidr.remove_observer(ch);
}

}  // namespace cpp::identity
