#pragma once
// Adj-RIB-In bookkeeping, pure: the prefixes a peer announced, per family,
// and which of them are stale — kept across the peer's graceful restart
// (RFC 4724 §4.2, ciliumpp as the helper) until the peer re-announces them
// or its End-of-RIB, the restart timer or the stale-path timer removes them.
// The speaker never installs received routes; it counts them for status.
#include <cstddef>
#include <map>
#include <set>
#include <vector>

#include "bgp/message.h"

namespace cpp::bgp {

class RibIn {
 public:
  // Withdrawals, then announcements (an announcement refreshes a stale
  // route); a treat-as-withdraw UPDATE withdraws what it announced.
  void apply(const Update& u);
  // The session went down gracefully: routes of `keep` become stale, the
  // other families' routes are removed.
  void mark_stale(const std::vector<Family>& keep);
  // Removes the stale routes of one family (its End-of-RIB, or the peer
  // came back without preserving it); returns how many.
  size_t sweep(Family f);
  // Removes every stale route (restart or stale-path timer expired).
  size_t sweep_all();
  void clear() { routes_.clear(); }

  size_t size() const;
  size_t stale() const;
  bool has_stale() const { return stale() != 0; }
  std::map<Family, size_t> by_family() const;
  std::set<Family> stale_families() const;

 private:
  // prefix -> stale, per family
  std::map<Family, std::map<IpPrefix, bool>> routes_;
};

}  // namespace cpp::bgp
