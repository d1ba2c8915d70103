#pragma once
#include <ciliumpp/abi.h>

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "datapath/pinned_map.h"

namespace cpp::datapath {

// One key of the pinned cpp_policy map, in host byte order. Zero in
// identity, protocol or dport means "any" (bpf/lib/policy.h has the lookup
// order). For ICMP/ICMPv6 entries dport is the ICMP type.
struct PolicyKey {
  uint16_t ep_id = 0;
  uint8_t direction = CPP_DIR_INGRESS;  // CPP_DIR_*
  uint8_t protocol = 0;                 // IPPROTO_*, 0 = any
  uint32_t identity = 0;                // peer security identity, 0 = any
  uint16_t dport = 0;                   // host order, 0 = any

  auto operator<=>(const PolicyKey&) const = default;
  bool operator==(const PolicyKey&) const = default;
};

// What the control plane decides for a key (the counters are the
// datapath's).
struct PolicyEntry {
  bool deny = false;
  uint16_t proxy_port = 0;  // host order; 0 = no L7 redirect
  uint32_t cookie = 0;      // names the rule, reported in events

  bool operator==(const PolicyEntry&) const = default;
};

// A map entry as read back: decision plus the datapath's counters
// (first packets of connections the entry decided, and their bytes).
struct PolicyMapEntry {
  PolicyKey key;
  PolicyEntry entry;
  uint64_t packets = 0;
  uint64_t bytes = 0;
};

cpp_policy_key policy_key(const PolicyKey& key);
PolicyKey policy_key_from(const cpp_policy_key& key);

// The pinned cpp_policy map of the node, shared by every endpoint (keyed by
// endpoint id). The pin must exist (Loader::ensure_maps).
class PolicyMap {
 public:
  explicit PolicyMap(const std::string& pin_dir);

  // Writes one entry. Counters of an existing entry are carried over, so
  // rewriting a rule does not reset its statistics.
  void upsert(const PolicyKey& key, const PolicyEntry& entry) const;
  bool remove(const PolicyKey& key) const;  // false if absent
  std::optional<PolicyMapEntry> lookup(const PolicyKey& key) const;
  std::vector<PolicyMapEntry> dump() const;                // every endpoint, sorted by key
  std::vector<PolicyMapEntry> dump(uint16_t ep_id) const;  // one endpoint, sorted by key
  // Removes every entry of one endpoint; returns how many.
  size_t remove_all_for_endpoint(uint16_t ep_id) const;

  struct SyncStats {
    size_t added = 0, updated = 0, removed = 0, unchanged = 0;
  };
  // Makes the endpoint's entries equal `desired` by writing only the
  // difference, never flushing. Keys in `desired` must carry ep_id (throws
  // std::invalid_argument otherwise). The order keeps every intermediate
  // state at most as permissive as the old or the new policy: new and
  // changed denies first, then stale allows go, then new and changed
  // allows, then stale denies go.
  SyncStats sync(uint16_t ep_id, const std::map<PolicyKey, PolicyEntry>& desired) const;

  const std::string& path() const { return map_.path(); }

 private:
  PinnedMap map_;
};

}  // namespace cpp::datapath
