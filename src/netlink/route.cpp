// Routes: replace (idempotent), remove (missing tolerated), list.
#include <cerrno>

#include "netlink/nl_internal.h"

namespace cpp {

std::string Route::str() const {
  std::string s = dst.len == 0 ? std::string("default") + (dst.addr.v6 ? " (::/0)" : "") : dst.str();
  if (via) s += " via " + via->str();
  if (!dev.empty()) s += " dev " + dev;
  if (src) s += " src " + src->str();
  if (scope == RT_SCOPE_LINK) s += " scope link";
  else if (scope == RT_SCOPE_HOST) s += " scope host";
  if (mtu > 0) s += " mtu " + std::to_string(mtu);
  if (priority) s += " metric " + std::to_string(priority);
  if (onlink) s += " onlink";
  s += " table " + std::to_string(table);
  return s;
}

namespace {

enum class Purpose { kReplace, kDelete };

RoutePtr build_route(const Route& r, int ifindex, Purpose purpose) {
  const std::string what = (purpose == Purpose::kReplace ? "replace route " : "remove route ") + r.str();
  const int family = family_of(r.dst.addr);
  if ((r.via && r.via->v6 != r.dst.addr.v6) || (r.src && r.src->v6 != r.dst.addr.v6))
    throw_error(what + ": mixed IPv4/IPv6 addresses");

  RoutePtr route(rtnl_route_alloc());
  if (!route) throw_error(what + ": out of memory");
  rtnl_route_set_family(route.get(), static_cast<uint8_t>(family));
  NlAddrPtr dst = to_nl_addr(r.dst);
  int err = rtnl_route_set_dst(route.get(), dst.get());
  if (err < 0) throw_error(what + ": " + nl_geterror(err));
  rtnl_route_set_table(route.get(), static_cast<uint32_t>(r.table));
  rtnl_route_set_type(route.get(), static_cast<uint8_t>(r.type));
  rtnl_route_set_scope(route.get(), static_cast<uint8_t>(r.scope));
  if (r.priority) rtnl_route_set_priority(route.get(), r.priority);

  // libnl defaults to RTPROT_STATIC; a delete with protocol 0 matches any protocol.
  rtnl_route_set_protocol(route.get(), purpose == Purpose::kReplace ? static_cast<uint8_t>(r.protocol) : 0);
  if (purpose == Purpose::kReplace) {
    if (r.src) {
      NlAddrPtr src = to_nl_addr(*r.src, r.src->bits());
      err = rtnl_route_set_pref_src(route.get(), src.get());
      if (err < 0) throw_error(what + ": " + nl_geterror(err));
    }
    if (r.mtu > 0) {
      err = rtnl_route_set_metric(route.get(), RTAX_MTU, static_cast<unsigned>(r.mtu));
      if (err < 0) throw_error(what + ": " + nl_geterror(err));
    }
  }

  rtnl_nexthop* nh = rtnl_route_nh_alloc();
  if (!nh) throw_error(what + ": out of memory");
  if (ifindex > 0) rtnl_route_nh_set_ifindex(nh, ifindex);
  if (r.via) {
    NlAddrPtr gw = to_nl_addr(*r.via, r.via->bits());
    rtnl_route_nh_set_gateway(nh, gw.get());  // takes its own reference
  }
  if (r.onlink && purpose == Purpose::kReplace) {
    rtnl_route_nh_set_flags(nh, RTNH_F_ONLINK);
    rtnl_route_set_flags(route.get(), RTNH_F_ONLINK);  // single next hop: rtm_flags carries it
  }
  rtnl_route_add_nexthop(route.get(), nh);  // route owns nh now
  return route;
}

Route to_route(rtnl_route* rr, const std::vector<LinkInfo>& links) {
  Route r;
  const int family = rtnl_route_get_family(rr);
  nl_addr* dst = rtnl_route_get_dst(rr);
  if (auto a = from_nl_addr(dst, family)) r.dst.addr = *a;
  r.dst.addr.v6 = family == AF_INET6;
  r.dst.len = dst ? static_cast<int>(nl_addr_get_prefixlen(dst)) : 0;
  r.table = static_cast<int>(rtnl_route_get_table(rr));
  r.scope = rtnl_route_get_scope(rr);
  r.protocol = rtnl_route_get_protocol(rr);
  r.type = rtnl_route_get_type(rr);
  r.priority = rtnl_route_get_priority(rr);
  if (nl_addr* src = rtnl_route_get_pref_src(rr)) r.src = from_nl_addr(src, family);
  uint32_t mtu = 0;
  if (rtnl_route_get_metric(rr, RTAX_MTU, &mtu) == 0) r.mtu = static_cast<int>(mtu);
  r.onlink = rtnl_route_get_flags(rr) & RTNH_F_ONLINK;
  if (rtnl_route_get_nnexthops(rr) > 0) {
    rtnl_nexthop* nh = rtnl_route_nexthop_n(rr, 0);
    if (nl_addr* gw = rtnl_route_nh_get_gateway(nh)) r.via = from_nl_addr(gw, family);
    if (rtnl_route_nh_get_flags(nh) & RTNH_F_ONLINK) r.onlink = true;
    int ifindex = rtnl_route_nh_get_ifindex(nh);
    for (const auto& l : links)
      if (l.ifindex == ifindex) r.dev = l.name;
    if (r.dev.empty() && ifindex > 0) r.dev = "#" + std::to_string(ifindex);
  }
  return r;
}

// Does `have` (from the kernel) already implement `want`?
bool same_route(const Route& want, const Route& have) {
  if (!(want.dst == have.dst) || want.table != have.table || want.dev != have.dev) return false;
  if (want.via != have.via || want.src != have.src || want.type != have.type) return false;
  if (!want.dst.addr.v6 && want.scope != have.scope) return false;
  if (want.mtu != have.mtu || want.protocol != have.protocol) return false;
  if (want.priority && want.priority != have.priority) return false;
  return true;
}

}  // namespace

void Netlink::replace_route(const Route& r) {
  std::lock_guard lk(impl_->mu);
  Impl& im = *impl_;
  const std::string what = "replace route " + r.str();
  if (r.dev.empty()) throw_error(what + ": no device given");
  RoutePtr route = build_route(r, im.ifindex_of(r.dev, what), Purpose::kReplace);
  im.reset();
  int err = rtnl_route_add(im.sk, route.get(), NLM_F_REPLACE);
  if (err >= 0) return;
  const std::string msg = what + ": " + im.describe(err);
  // Idempotency: some shapes are refused on re-install (IPv6 "via <local address>")
  // although the identical route is in place. That is success for a reconciler.
  for (const auto& have : dump_routes(im, family_of(r.dst.addr), r.table))
    if (same_route(r, have)) return;
  throw_error(msg);
}

bool Netlink::remove_route(const Route& r) {
  std::lock_guard lk(impl_->mu);
  Impl& im = *impl_;
  const std::string what = "remove route " + r.str();
  int ifindex = 0;
  if (!r.dev.empty()) {
    LinkPtr l(im.find_link(r.dev));
    if (!l) return false;  // the kernel dropped the device's routes with it
    ifindex = rtnl_link_get_ifindex(l.get());
  }
  RoutePtr route = build_route(r, ifindex, Purpose::kDelete);
  im.reset();
  int err = rtnl_route_delete(im.sk, route.get(), 0);
  if (err < 0) {
    int e = im.sys_errno(err);
    if (e == ESRCH || e == ENOENT) return false;
    im.fail(what, err);
  }
  return true;
}

std::vector<Route> dump_routes(Netlink::Impl& im, int family, int table) {
  std::vector<LinkInfo> links = dump_links(im);
  nl_cache* raw = nullptr;
  im.reset();
  int err = rtnl_route_alloc_cache(im.sk, family, 0, &raw);
  if (err < 0) im.fail("list routes", err);
  CachePtr cache(raw);
  std::vector<Route> out;
  for (nl_object* o = nl_cache_get_first(cache.get()); o; o = nl_cache_get_next(o)) {
    auto* rr = reinterpret_cast<rtnl_route*>(o);
    int f = rtnl_route_get_family(rr);
    if (f != AF_INET && f != AF_INET6) continue;
    if (table != RT_TABLE_UNSPEC && static_cast<int>(rtnl_route_get_table(rr)) != table) continue;
    out.push_back(to_route(rr, links));
  }
  return out;
}

std::vector<Route> Netlink::list_routes(int family, int table) {
  std::lock_guard lk(impl_->mu);
  return dump_routes(*impl_, family, table);
}

}  // namespace cpp
