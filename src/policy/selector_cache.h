#pragma once
// SelectorCache: every distinct selector in use, with the set of identities
// it selects, kept up to date as identities come and go (upstream
// pkg/policy/selectorcache.go). Entries are shared and reference counted;
// Entry pointers stay valid until the last release.
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "labels/labels.h"
#include "policy/selector.h"

namespace cpp::policy {

class SelectorCache {
 public:
  struct Entry {
    Selector selector;
    std::string key;            // selector.str()
    std::set<uint32_t> ids;     // identities selected now
    size_t refs = 0;
  };

  // The entry for a selector, created (and matched against every known
  // identity) on first use.
  Entry* acquire(const Selector& s);
  void release(Entry* e);

  // Adds (or re-labels) an identity; returns the entries whose selection
  // changed (gained it, or for a re-label gained or lost it).
  std::vector<Entry*> add_identity(uint32_t id, const labels::LabelSet& ls);
  // Removes an identity; returns the entries that had selected it.
  std::vector<Entry*> remove_identity(uint32_t id);

  const std::map<uint32_t, labels::LabelSet>& identities() const { return identities_; }
  const labels::LabelSet* identity_labels(uint32_t id) const;
  size_t size() const { return entries_.size(); }
  std::vector<const Entry*> entries() const;

 private:
  std::map<std::string, std::unique_ptr<Entry>> entries_;
  std::map<uint32_t, labels::LabelSet> identities_;
};

}  // namespace cpp::policy
