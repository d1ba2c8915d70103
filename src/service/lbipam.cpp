#include "service/lbipam.h"

#include <algorithm>
#include <set>
#include <sstream>
#include <stdexcept>

#include "service/json_read.h"

namespace cpp::service::lbipam {

using namespace json_read;

namespace {

using u128 = unsigned __int128;

u128 to_u128(const IpAddr& a) {
  u128 v = 0;
  for (int i = 0; i < a.bits() / 8; ++i) v = (v << 8) | a.bytes[i];
  return v;
}

IpAddr from_u128(u128 v, bool v6) {
  IpAddr a;
  a.v6 = v6;
  for (int i = a.bits() / 8 - 1; i >= 0; --i) {
    a.bytes[i] = static_cast<uint8_t>(v & 0xff);
    v >>= 8;
  }
  return a;
}

std::string dec(u128 v) {
  if (v == 0) return "0";
  std::string s;
  while (v) {
    s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  return s;
}

const char* family(const IpAddr& a) { return a.v6 ? "IPv6" : "IPv4"; }

Block parse_block(const nlohmann::json& j, const std::string& path) {
  expect_object(j, path);
  auto cidr = opt_string(j, "cidr", path);
  auto start = opt_string(j, "start", path);
  auto stop = opt_string(j, "stop", path);
  Block b;
  if (cidr) {
    if (start || stop) fail(path, "cidr and start/stop are mutually exclusive");
    // Host bits are tolerated and cleared, as upstream.
    auto p = IpPrefix::parse(*cidr, true);
    if (!p) fail(path + ".cidr", "invalid CIDR \"" + *cidr + "\"");
    b.first = p->addr;
    u128 host = p->len == p->addr.bits() ? 0 : (~u128{0} >> (128 - (p->addr.bits() - p->len)));
    b.last = from_u128(to_u128(p->addr) | host, p->addr.v6);
    b.from_cidr = true;
    return b;
  }
  if (!start) fail(path, stop ? "stop without start" : "needs cidr or start (and optionally stop)");
  auto s = IpAddr::parse(*start);
  if (!s) fail(path + ".start", "invalid IP address \"" + *start + "\"");
  b.first = b.last = *s;
  if (stop) {
    auto e = IpAddr::parse(*stop);
    if (!e) fail(path + ".stop", "invalid IP address \"" + *stop + "\"");
    if (e->v6 != s->v6)
      fail(path, "start " + s->str() + " (" + family(*s) + ") and stop " + e->str() + " (" + family(*e) +
                     ") are of different families");
    if (*e < *s) fail(path, "start " + s->str() + " is after stop " + e->str());
    b.last = *e;
  }
  return b;
}

// One block of one pool, as allocation sees it.
struct Range {
  size_t pool;  // index into the sorted pools
  u128 first, last;
  bool v6;
  bool edges_reserved;  // allowFirstLastIPs: No on a cidr block of more than two addresses
  std::string text;
  bool contains(const IpAddr& a) const { return a.v6 == v6 && to_u128(a) >= first && to_u128(a) <= last; }
  bool reserved(u128 v) const { return edges_reserved && (v == first || v == last); }
  u128 allocatable() const { return last - first + 1 - (edges_reserved ? 2 : 0); }
};

bool overlap(const Range& a, const Range& b) { return a.v6 == b.v6 && a.first <= b.last && b.first <= a.last; }

Condition satisfied_cond(bool ok, const std::string& reason, const std::string& msg) {
  return {kRequestSatisfied, ok ? "True" : "False", reason, msg};
}

}  // namespace

std::string Block::str() const {
  if (from_cidr) {
    u128 n = to_u128(last) - to_u128(first) + 1;
    int host = 0;
    while (host < first.bits() && (u128{1} << host) < n) ++host;
    if (n == 0) host = 128;  // the whole IPv6 space wraps the count
    return first.str() + "/" + std::to_string(first.bits() - host);
  }
  return first == last ? first.str() : first.str() + "-" + last.str();
}

Pool parse_pool(const nlohmann::json& obj) {
  expect_object(obj, "pool");
  Pool p;
  auto* md = member(obj, "metadata", "");
  if (!md) fail("metadata", "missing");
  auto name = opt_string(*md, "name", "metadata");
  if (!name || name->empty()) fail("metadata.name", "missing");
  p.name = *name;
  p.creation_timestamp = opt_string(*md, "creationTimestamp", "metadata").value_or("");
  auto* spec = member(obj, "spec", "");
  if (!spec) fail("spec", "missing");
  // `cidrs` is 1.15's deprecated spelling of `blocks`; upstream takes both.
  for (const char* field : {"blocks", "cidrs"}) {
    auto* blocks = member(*spec, field, "spec");
    if (!blocks) continue;
    std::string path = std::string("spec.") + field;
    expect_array(*blocks, path);
    for (size_t i = 0; i < blocks->size(); ++i)
      p.blocks.push_back(parse_block((*blocks)[i], path + "[" + std::to_string(i) + "]"));
  }
  if (p.blocks.empty()) fail("spec.blocks", "needs at least one block");
  if (auto* sel = member(*spec, "serviceSelector", "spec")) p.selector = parse_label_selector(*sel, "spec.serviceSelector");
  auto afl = opt_string(*spec, "allowFirstLastIPs", "spec").value_or("No");
  if (afl != "Yes" && afl != "No") fail("spec.allowFirstLastIPs", "must be Yes or No, got \"" + afl + "\"");
  p.allow_first_last = afl == "Yes";
  p.disabled = opt_bool(*spec, "disabled", "spec").value_or(false);
  return p;
}

std::optional<ServiceRequest> request_for(const Service& svc, bool ipv4_enabled, bool ipv6_enabled) {
  if (svc.type != "LoadBalancer") return std::nullopt;
  if (svc.load_balancer_class && *svc.load_balancer_class != "io.cilium/bgp-control-plane" &&
      *svc.load_balancer_class != "io.cilium/l2-announcer")
    return std::nullopt;
  ServiceRequest r;
  r.key = svc.key();
  r.labels = svc.labels;
  r.labels[kServiceNamespaceLabel] = svc.ns;
  r.labels[kServiceNameLabel] = svc.name;
  r.current = svc.lb_ingress;

  auto add = [&](const std::string& s, const std::string& where) {
    auto a = IpAddr::parse(s);
    if (!a) {
      if (r.error.empty()) r.error = where + ": invalid IP address \"" + s + "\"";
      return;
    }
    if (std::find(r.requested.begin(), r.requested.end(), *a) == r.requested.end()) r.requested.push_back(*a);
  };
  if (!svc.load_balancer_ip.empty()) add(svc.load_balancer_ip, "spec.loadBalancerIP");
  for (const char* key : {kIPsAnnotation, kIPsAnnotationAlias}) {
    auto it = svc.annotations.find(key);
    if (it == svc.annotations.end() || it->second.empty()) continue;
    std::stringstream ss(it->second);
    for (std::string item; std::getline(ss, item, ',');) {
      item.erase(0, item.find_first_not_of(" \t"));
      item.erase(item.find_last_not_of(" \t") + 1);
      add(item, std::string("metadata.annotations[") + key + "]");
    }
    break;
  }

  r.ns = svc.ns;
  for (const char* key : {kSharingKeyAnnotation, kSharingKeyAnnotationAlias}) {
    auto it = svc.annotations.find(key);
    if (it == svc.annotations.end() || it->second.empty()) continue;
    r.sharing_key = it->second;
    break;
  }
  for (auto& p : svc.ports) r.ports.push_back(p.port);
  r.external_local = svc.external_policy == TrafficPolicy::Local;
  r.selector = svc.selector;
  r.creation_timestamp = svc.creation_timestamp;

  // Upstream's family rules: SingleStack or no policy takes the first
  // listed family (or the first enabled); dual-stack policies take every
  // enabled family (PreferDualStack only the listed ones).
  auto first_family = [&] {
    if (!svc.ip_families.empty()) {
      (svc.ip_families[0] == "IPv4" ? r.want_v4 : r.want_v6) = true;
    } else if (ipv4_enabled) {
      r.want_v4 = true;
    } else if (ipv6_enabled) {
      r.want_v6 = true;
    }
  };
  if (svc.ip_family_policy == "PreferDualStack") {
    if (svc.ip_families.empty()) {
      r.want_v4 = ipv4_enabled;
      r.want_v6 = ipv6_enabled;
    }
    for (auto& f : svc.ip_families) (f == "IPv4" ? r.want_v4 : r.want_v6) = f == "IPv4" ? ipv4_enabled : ipv6_enabled;
  } else if (svc.ip_family_policy == "RequireDualStack") {
    r.want_v4 = ipv4_enabled;
    r.want_v6 = ipv6_enabled;
  } else {
    first_family();
  }
  return r;
}

std::string incompatibility(const ServiceRequest& a, const ServiceRequest& b) {
  if (a.sharing_key.empty() || a.sharing_key != b.sharing_key) return "different sharing key";
  // Sharing across namespaces would let one tenant attach to another's IP.
  if (a.ns != b.ns) return "different namespace";
  for (auto pa : a.ports)
    if (std::find(b.ports.begin(), b.ports.end(), pa) != b.ports.end())
      return "same port " + std::to_string(pa);
  if (a.external_local != b.external_local) return "different ExternalTrafficPolicy";
  // With Local, the IP may only lead to nodes that run pods of both.
  if (a.external_local && (a.selector.empty() || b.selector.empty()))
    return "ExternalTrafficPolicy Local without a selector";
  if (a.external_local && a.selector != b.selector) return "ExternalTrafficPolicy Local with different selectors";
  return "";
}

Result allocate(const std::vector<Pool>& pools_in, const std::vector<ServiceRequest>& services_in) {
  std::vector<const Pool*> pools;
  for (auto& p : pools_in) pools.push_back(&p);
  std::sort(pools.begin(), pools.end(), [](const Pool* a, const Pool* b) {
    bool ua = a->creation_timestamp.empty(), ub = b->creation_timestamp.empty();
    return std::tie(ua, a->creation_timestamp, a->name) < std::tie(ub, b->creation_timestamp, b->name);
  });
  for (size_t i = 1; i < pools.size(); ++i)
    if (pools[i]->name == pools[i - 1]->name) throw std::invalid_argument("lbipam: duplicate pool " + pools[i]->name);

  std::vector<std::vector<Range>> ranges(pools.size());
  for (size_t pi = 0; pi < pools.size(); ++pi)
    for (auto& b : pools[pi]->blocks) {
      Range r{pi, to_u128(b.first), to_u128(b.last), b.first.v6, false, b.str()};
      // Network and broadcast style addresses are kept out unless allowed;
      // a block of one or two addresses would otherwise be empty.
      r.edges_reserved = b.from_cidr && !pools[pi]->allow_first_last && r.last - r.first >= 2;
      ranges[pi].push_back(r);
    }

  // Conflicts: a pool overlapping itself, or an older non-conflicting pool, stops allocating.
  Result res;
  std::vector<bool> conflicting(pools.size(), false);
  for (size_t pi = 0; pi < pools.size(); ++pi) {
    std::string msg;
    auto& mine = ranges[pi];
    for (size_t a = 0; a < mine.size() && msg.empty(); ++a)
      for (size_t b = a + 1; b < mine.size() && msg.empty(); ++b)
        if (overlap(mine[a], mine[b]))
          msg = "Pool conflicts since range '" + mine[a].text + "' overlaps range '" + mine[b].text +
                "' from IP Pool '" + pools[pi]->name + "'";
    for (size_t oi = 0; oi < pi && msg.empty(); ++oi) {
      if (conflicting[oi]) continue;
      for (auto& a : mine)
        for (auto& b : ranges[oi])
          if (msg.empty() && overlap(a, b))
            msg = "Pool conflicts since range '" + a.text + "' overlaps range '" + b.text + "' from IP Pool '" +
                  pools[oi]->name + "'";
    }
    conflicting[pi] = !msg.empty();
    auto& pr = res.pools[pools[pi]->name];
    pr.conflicting = conflicting[pi];
    pr.conditions.push_back(conflicting[pi] ? Condition{kPoolConflict, "True", "cidr_overlap", msg}
                                            : Condition{kPoolConflict, "False", "resolved", ""});
  }

  auto selects = [&](size_t pi, const ServiceRequest& s) {
    return !pools[pi]->selector || pools[pi]->selector->matches(s.labels);
  };
  // The valid range holding `ip` for `s`; `allocating` excludes disabled pools.
  auto range_of = [&](const IpAddr& ip, const ServiceRequest& s, bool allocating, bool* foreign) -> const Range* {
    for (size_t pi = 0; pi < pools.size(); ++pi) {
      if (conflicting[pi] || (allocating && pools[pi]->disabled)) continue;
      for (auto& r : ranges[pi]) {
        if (!r.contains(ip)) continue;
        if (selects(pi, s)) return &r;
        if (foreign) *foreign = true;
      }
    }
    return nullptr;
  };

  std::vector<const ServiceRequest*> svcs;
  for (auto& s : services_in) svcs.push_back(&s);
  std::sort(svcs.begin(), svcs.end(), [](auto* a, auto* b) { return a->key < b->key; });

  // Who holds each IP: one service, or a group sharing it under one key.
  struct Holders {
    const Range* range;
    std::vector<const ServiceRequest*> members;
  };
  std::map<IpAddr, Holders> held;
  std::map<std::string, std::set<IpAddr>> by_key;  // sharing key -> IPs whose holders have it
  auto take = [&](const IpAddr& ip, const Range* r, const ServiceRequest& s) {
    auto& h = held.emplace(ip, Holders{r, {}}).first->second;
    h.members.push_back(&s);
    if (!s.sharing_key.empty()) by_key[s.sharing_key].insert(ip);
    res.services[s.key].ips.push_back(ip);
  };
  // Why s may not join the holders of ip ("" = it may).
  auto refusal = [&](const Holders& h, const ServiceRequest& s) {
    for (auto* m : h.members)
      if (auto why = incompatibility(*m, s); !why.empty()) return why;
    return std::string();
  };
  auto wanted = [](const ServiceRequest& s, const IpAddr& ip) { return ip.v6 ? s.want_v6 : s.want_v4; };
  auto requested = [](const ServiceRequest& s, const IpAddr& ip) {
    return std::find(s.requested.begin(), s.requested.end(), ip) != s.requested.end();
  };

  // Keep what services already have while it is still valid. On a clash
  // over an IP, a service in error goes first (bad input changes nothing:
  // it keeps whatever it holds), then unchanged ones, older ones, by key.
  std::vector<const ServiceRequest*> keep_order = svcs;
  std::stable_sort(keep_order.begin(), keep_order.end(), [](auto* a, auto* b) {
    bool ea = a->error.empty(), eb = b->error.empty();
    bool ua = a->creation_timestamp.empty(), ub = b->creation_timestamp.empty();
    return std::tie(ea, a->changed, ua, a->creation_timestamp) < std::tie(eb, b->changed, ub, b->creation_timestamp);
  });
  for (auto* s : keep_order) {
    res.services[s->key];
    if (!s->error.empty()) {
      res.services[s->key].ips = s->current;
      for (auto& ip : s->current)
        for (size_t pi = 0; pi < pools.size(); ++pi)
          for (auto& r : ranges[pi])
            if (!conflicting[pi] && r.contains(ip) && held.emplace(ip, Holders{&r, {s}}).second &&
                !s->sharing_key.empty())
              by_key[s->sharing_key].insert(ip);
      continue;
    }
    for (auto& ip : s->current) {
      if (s->requested.empty() ? !wanted(*s, ip) : !requested(*s, ip)) continue;
      const Range* r = range_of(ip, *s, false, nullptr);
      if (!r) continue;
      auto h = held.find(ip);
      if (h == held.end()) {
        take(ip, r, *s);
      } else if (std::find(h->second.members.begin(), h->second.members.end(), s) == h->second.members.end() &&
                 refusal(h->second, *s).empty()) {
        take(ip, r, *s);
      }
    }
  }

  // Then satisfy what is missing. Only taking happens from here on, so the
  // lowest free address of a range never moves down: one cursor per range.
  std::map<const Range*, u128> cursor;
  // Joining holders counts as allocating: the IP's range must be one s may allocate from.
  auto may_allocate_from = [&](const Range* r, const ServiceRequest& s) {
    return !conflicting[r->pool] && !pools[r->pool]->disabled && selects(r->pool, s);
  };
  for (auto* s : svcs) {
    auto& out = res.services[s->key];
    if (!s->error.empty()) {
      out.condition = satisfied_cond(false, "invalid_request", s->error);
      continue;
    }
    Condition failure;
    auto has = [&](const IpAddr& ip) { return std::find(out.ips.begin(), out.ips.end(), ip) != out.ips.end(); };
    if (!s->requested.empty()) {
      for (auto& ip : s->requested) {
        if (has(ip)) continue;
        bool foreign = false;
        const Range* r = range_of(ip, *s, true, &foreign);
        auto h = held.find(ip);
        if (!r) {
          failure = foreign ? satisfied_cond(false, "pool_selector_mismatch",
                                             "The pool with the CIDR containing '" + ip.str() +
                                                 "', doesn't select this service")
                            : satisfied_cond(false, "no_pool", "No pool exists with a CIDR containing '" + ip.str() + "'");
        } else if (r->reserved(to_u128(ip)) || (h != held.end() && s->sharing_key.empty())) {
          failure = satisfied_cond(false, "already_allocated",
                                   "The IP '" + ip.str() + "' is already allocated to another service");
        } else if (h == held.end()) {
          take(ip, r, *s);
        } else if (auto why = refusal(h->second, *s); !why.empty()) {
          failure = satisfied_cond(false, "already_allocated_incompatible_service",
                                   "The IP '" + ip.str() +
                                       "' is already allocated to an incompatible service. Reason: " + why);
        } else {
          take(ip, h->second.range, *s);
        }
      }
    } else {
      for (bool v6 : {false, true}) {
        if (!(v6 ? s->want_v6 : s->want_v4)) continue;
        if (std::any_of(out.ips.begin(), out.ips.end(), [&](const IpAddr& a) { return a.v6 == v6; })) continue;
        bool done = false;
        if (auto k = by_key.find(s->sharing_key); k != by_key.end())
          for (auto& ip : k->second) {
            auto& h = held.at(ip);
            if (ip.v6 == v6 && may_allocate_from(h.range, *s) && refusal(h, *s).empty()) {
              take(ip, h.range, *s);
              done = true;
              break;
            }
          }
        bool matched = done;
        for (size_t pi = 0; pi < pools.size() && !done; ++pi) {
          if (conflicting[pi] || pools[pi]->disabled || !selects(pi, *s)) continue;
          for (auto& r : ranges[pi]) {
            if (r.v6 != v6) continue;
            matched = true;
            auto cur = cursor.emplace(&r, r.first).first;
            for (u128& v = cur->second; v <= r.last && v >= r.first; ++v) {
              if (!r.reserved(v) && !held.count(from_u128(v, v6))) {
                take(from_u128(v, v6), &r, *s);
                done = true;
                break;
              }
            }
            if (done) break;
          }
        }
        if (!done)
          failure = matched ? satisfied_cond(false, "out_of_ips",
                                             "All enabled CiliumLoadBalancerIPPools that match this service ran out "
                                             "of allocatable IPs")
                            : satisfied_cond(false, "no_pool",
                                             "There are no enabled CiliumLoadBalancerIPPools that match this service");
      }
    }
    out.condition = failure.type.empty() ? satisfied_cond(true, "satisfied", "") : failure;
  }

  // Used counts kept first/last addresses too (a shared IP once); available only what can still be handed out.
  std::vector<u128> used(pools.size(), 0), used_allocatable(pools.size(), 0);
  for (auto& [ip, h] : held) {
    ++used[h.range->pool];
    if (!h.range->reserved(to_u128(ip))) ++used_allocatable[h.range->pool];
  }
  for (size_t pi = 0; pi < pools.size(); ++pi) {
    u128 total = 0;
    for (auto& r : ranges[pi]) total += r.allocatable();
    auto& pr = res.pools[pools[pi]->name];
    pr.total = dec(total);
    pr.used = dec(used[pi]);
    pr.available = dec(total - used_allocatable[pi]);
    pr.conditions.push_back({kIPsTotal, "Unknown", "noreason", pr.total});
    pr.conditions.push_back({kIPsAvailable, "Unknown", "noreason", pr.available});
    pr.conditions.push_back({kIPsUsed, "Unknown", "noreason", pr.used});
  }
  return res;
}

}  // namespace cpp::service::lbipam
