// Interface addresses (IPv4 and IPv6).
#include <linux/if_addr.h>

#include <cerrno>

#include "netlink/nl_internal.h"

namespace cpp {

namespace {

AddrPtr build_addr(int ifindex, const IpPrefix& p) {
  AddrPtr a(rtnl_addr_alloc());
  if (!a) throw_error("allocate address: out of memory");
  rtnl_addr_set_ifindex(a.get(), ifindex);
  rtnl_addr_set_family(a.get(), family_of(p.addr));
  NlAddrPtr local = to_nl_addr(p);
  int err = rtnl_addr_set_local(a.get(), local.get());  // also sets the prefix length
  if (err < 0) throw_error("set address " + p.str() + ": " + nl_geterror(err));
  rtnl_addr_set_prefixlen(a.get(), p.len);
  return a;
}

}  // namespace

bool Netlink::add_address(const std::string& ifname, const IpPrefix& addr, bool nodad) {
  std::lock_guard lk(impl_->mu);
  Impl& im = *impl_;
  const std::string what = "add address " + addr.str() + " to " + ifname;
  AddrPtr a = build_addr(im.ifindex_of(ifname, what), addr);
  if (nodad && addr.addr.v6) rtnl_addr_set_flags(a.get(), IFA_F_NODAD);
  im.reset();
  int err = rtnl_addr_add(im.sk, a.get(), NLM_F_EXCL);
  if (err < 0) {
    if (im.sys_errno(err) == EEXIST) return false;
    im.fail(what, err);
  }
  return true;
}

bool Netlink::remove_address(const std::string& ifname, const IpPrefix& addr) {
  std::lock_guard lk(impl_->mu);
  Impl& im = *impl_;
  const std::string what = "remove address " + addr.str() + " from " + ifname;
  LinkPtr l(im.find_link(ifname));
  if (!l) return false;  // no device, no address
  AddrPtr a = build_addr(rtnl_link_get_ifindex(l.get()), addr);
  im.reset();
  int err = rtnl_addr_delete(im.sk, a.get(), 0);
  if (err < 0) {
    int e = im.sys_errno(err);
    if (e == EADDRNOTAVAIL || e == ENOENT || e == ESRCH || e == ENODEV) return false;
    im.fail(what, err);
  }
  return true;
}

std::vector<IpPrefix> Netlink::list_addresses(const std::string& ifname) {
  std::lock_guard lk(impl_->mu);
  Impl& im = *impl_;
  const std::string what = "list addresses of " + ifname;
  int ifindex = im.ifindex_of(ifname, what);
  nl_cache* raw = nullptr;
  im.reset();
  int err = rtnl_addr_alloc_cache(im.sk, &raw);
  if (err < 0) im.fail(what, err);
  CachePtr cache(raw);
  std::vector<IpPrefix> out;
  for (nl_object* o = nl_cache_get_first(cache.get()); o; o = nl_cache_get_next(o)) {
    auto* a = reinterpret_cast<rtnl_addr*>(o);
    if (rtnl_addr_get_ifindex(a) != ifindex) continue;
    int family = rtnl_addr_get_family(a);
    if (family != AF_INET && family != AF_INET6) continue;
    auto ip = from_nl_addr(rtnl_addr_get_local(a), family);
    if (!ip) continue;
    out.push_back(IpPrefix{*ip, rtnl_addr_get_prefixlen(a)});
  }
  return out;
}

}  // namespace cpp
