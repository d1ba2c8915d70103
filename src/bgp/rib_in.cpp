#include "bgp/rib_in.h"

#include <algorithm>

namespace cpp::bgp {

namespace {

void erase(std::map<Family, std::map<IpPrefix, bool>>& routes, Family f, const IpPrefix& p) {
  auto it = routes.find(f);
  if (it == routes.end()) return;
  it->second.erase(p);
  if (it->second.empty()) routes.erase(it);
}

}  // namespace

void RibIn::apply(const Update& u) {
  const Family v4{Afi::IPv4, Safi::Unicast};
  for (const auto& p : u.withdrawn) erase(routes_, v4, p);
  if (u.mp_unreach)
    for (const auto& p : u.mp_unreach->withdrawn) erase(routes_, u.mp_unreach->family, p);
  if (u.treat_as_withdraw) {
    for (const auto& p : u.nlri) erase(routes_, v4, p);
    if (u.mp_reach)
      for (const auto& p : u.mp_reach->nlri) erase(routes_, u.mp_reach->family, p);
    return;
  }
  for (const auto& p : u.nlri) routes_[v4][p] = false;
  if (u.mp_reach)
    for (const auto& p : u.mp_reach->nlri) routes_[u.mp_reach->family][p] = false;
}

void RibIn::mark_stale(const std::vector<Family>& keep) {
  for (auto it = routes_.begin(); it != routes_.end();) {
    if (std::find(keep.begin(), keep.end(), it->first) == keep.end()) {
      it = routes_.erase(it);
      continue;
    }
    for (auto& [p, is_stale] : it->second) is_stale = true;
    ++it;
  }
}

size_t RibIn::sweep(Family f) {
  auto it = routes_.find(f);
  if (it == routes_.end()) return 0;
  size_t n = std::erase_if(it->second, [](const auto& r) { return r.second; });
  if (it->second.empty()) routes_.erase(it);
  return n;
}

size_t RibIn::sweep_all() {
  size_t n = 0;
  for (auto f : stale_families()) n += sweep(f);
  return n;
}

size_t RibIn::size() const {
  size_t n = 0;
  for (const auto& [f, rs] : routes_) n += rs.size();
  return n;
}

size_t RibIn::stale() const {
  size_t n = 0;
  for (const auto& [f, rs] : routes_)
    for (const auto& [p, is_stale] : rs) n += is_stale;
  return n;
}

std::map<Family, size_t> RibIn::by_family() const {
  std::map<Family, size_t> out;
  for (const auto& [f, rs] : routes_) out[f] = rs.size();
  return out;
}

std::set<Family> RibIn::stale_families() const {
  std::set<Family> out;
  for (const auto& [f, rs] : routes_)
    for (const auto& [p, is_stale] : rs)
      if (is_stale) {
        out.insert(f);
        break;
      }
  return out;
}

}  // namespace cpp::bgp
