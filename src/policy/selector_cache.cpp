#include "policy/selector_cache.h"

namespace cpp::policy {

SelectorCache::Entry* SelectorCache::acquire(const Selector& s) {
  std::string key = s.str();
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    auto e = std::make_unique<Entry>();
    e->selector = s;
    e->key = key;
    for (const auto& [id, ls] : identities_)
      if (s.matches(ls)) e->ids.insert(id);
    it = entries_.emplace(key, std::move(e)).first;
  }
  it->second->refs++;
  return it->second.get();
}

void SelectorCache::release(Entry* e) {
  if (!e) return;
  if (--e->refs == 0) entries_.erase(e->key);
}

std::vector<SelectorCache::Entry*> SelectorCache::add_identity(uint32_t id, const labels::LabelSet& ls) {
  identities_[id] = ls;
  std::vector<Entry*> changed;
  for (auto& [k, e] : entries_) {
    bool m = e->selector.matches(ls);
    bool had = e->ids.count(id) != 0;
    if (m && !had) {
      e->ids.insert(id);
      changed.push_back(e.get());
    } else if (!m && had) {
      e->ids.erase(id);
      changed.push_back(e.get());
    }
  }
  return changed;
}

std::vector<SelectorCache::Entry*> SelectorCache::remove_identity(uint32_t id) {
  identities_.erase(id);
  std::vector<Entry*> changed;
  for (auto& [k, e] : entries_)
    if (e->ids.erase(id)) changed.push_back(e.get());
  return changed;
}

const labels::LabelSet* SelectorCache::identity_labels(uint32_t id) const {
  auto it = identities_.find(id);
  return it == identities_.end() ? nullptr : &it->second;
}

std::vector<const SelectorCache::Entry*> SelectorCache::entries() const {
  std::vector<const Entry*> v;
  for (const auto& [k, e] : entries_) v.push_back(e.get());
  return v;
}

}  // namespace cpp::policy
