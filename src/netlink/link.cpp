// Devices: veth pairs, up/down, MTU, MAC, ARP flag, rename, namespace moves, removal.
#include <net/if.h>
#include <netlink/route/link/veth.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "netlink/nl_internal.h"

namespace cpp {

LinkInfo to_link_info(rtnl_link* l) {
  LinkInfo i;
  i.ifindex = rtnl_link_get_ifindex(l);
  if (const char* n = rtnl_link_get_name(l)) i.name = n;
  if (const char* k = rtnl_link_get_type(l)) i.kind = k;
  if (nl_addr* a = rtnl_link_get_addr(l); a && nl_addr_get_len(a) == 6)
    std::memcpy(i.mac.data(), nl_addr_get_binary_addr(a), 6);
  i.mtu = static_cast<int>(rtnl_link_get_mtu(l));
  unsigned flags = rtnl_link_get_flags(l);
  i.up = flags & IFF_UP;
  i.noarp = flags & IFF_NOARP;
  if (i.kind == "veth") i.peer_ifindex = rtnl_link_get_link(l);
  return i;
}

namespace {

NlAddrPtr mac_addr(const MacAddr& m) {
  NlAddrPtr a(nl_addr_build(AF_LLC, m.data(), m.size()));
  if (!a) throw_error("allocate MAC address: out of memory");
  return a;
}

// Applies `changes` to the existing device `name` (RTM_NEWLINK, falling back to RTM_SETLINK).
void change_link(Netlink::Impl& im, const std::string& name, rtnl_link* changes, const std::string& what) {
  LinkPtr orig(im.find_link(name));
  if (!orig) throw_error(what + ": device " + name + " not found");
  im.reset();
  int err = rtnl_link_change(im.sk, orig.get(), changes, 0);
  if (err < 0) im.fail(what, err);
}

LinkPtr new_changes() {
  LinkPtr c(rtnl_link_alloc());
  if (!c) throw_error("allocate link: out of memory");
  return c;
}

}  // namespace

LinkInfo Netlink::create_veth(const std::string& name, const std::string& peer_name, int peer_netns_fd,
                              int mtu, std::optional<MacAddr> mac, std::optional<MacAddr> peer_mac) {
  std::lock_guard lk(impl_->mu);
  Impl& im = *impl_;
  std::string what = "create veth " + name + " (peer " + peer_name +
                     (peer_netns_fd >= 0 ? " in netns fd " + std::to_string(peer_netns_fd) : "") + ")";
  if (name.empty() || name.size() >= IFNAMSIZ || peer_name.empty() || peer_name.size() >= IFNAMSIZ)
    throw_error(what + ": device names must be 1.." + std::to_string(IFNAMSIZ - 1) + " characters");

  LinkPtr link(rtnl_link_veth_alloc());
  if (!link) throw_error(what + ": out of memory");
  LinkPtr peer(rtnl_link_veth_get_peer(link.get()));  // takes a reference
  rtnl_link_set_name(link.get(), name.c_str());
  rtnl_link_set_name(peer.get(), peer_name.c_str());
  if (mtu > 0) {
    rtnl_link_set_mtu(link.get(), static_cast<unsigned>(mtu));
    rtnl_link_set_mtu(peer.get(), static_cast<unsigned>(mtu));
  }
  if (mac) rtnl_link_set_addr(link.get(), mac_addr(*mac).get());
  if (peer_mac) rtnl_link_set_addr(peer.get(), mac_addr(*peer_mac).get());
  if (peer_netns_fd >= 0) rtnl_link_set_ns_fd(peer.get(), peer_netns_fd);

  im.reset();
  int err = rtnl_link_add(im.sk, link.get(), NLM_F_CREATE | NLM_F_EXCL);
  if (err < 0) {
    // Nothing was created (the kernel builds the pair in one step). Say which name clashed.
    if (im.sys_errno(err) == EEXIST) {
      NlError saved = im.last;
      LinkPtr existing(im.find_link(name));
      im.last = saved;
      if (existing) throw_error(what + ": device " + name + " already exists");
      throw_error(what + ": peer name " + peer_name + " already exists in the peer's namespace");
    }
    im.fail(what, err);
  }

  // From here on the pair exists: never leave it half-made.
  try {
    LinkPtr created(im.find_link(name));
    if (!created) throw_error(what + ": device vanished right after creation");
    LinkInfo info = to_link_info(created.get());
    if (info.kind != "veth") throw_error(what + ": created device is of kind '" + info.kind + "'");
    return info;
  } catch (...) {
    im.reset();
    LinkPtr del(rtnl_link_alloc());
    if (del) {
      rtnl_link_set_name(del.get(), name.c_str());
      rtnl_link_delete(im.sk, del.get());  // deleting one end removes both
    }
    throw;
  }
}

void Netlink::set_up(const std::string& name) {
  std::lock_guard lk(impl_->mu);
  LinkPtr c = new_changes();
  rtnl_link_set_flags(c.get(), IFF_UP);
  change_link(*impl_, name, c.get(), "set " + name + " up");
}

void Netlink::set_down(const std::string& name) {
  std::lock_guard lk(impl_->mu);
  LinkPtr c = new_changes();
  rtnl_link_unset_flags(c.get(), IFF_UP);
  change_link(*impl_, name, c.get(), "set " + name + " down");
}

void Netlink::set_mtu(const std::string& name, int mtu) {
  std::lock_guard lk(impl_->mu);
  if (mtu <= 0) throw_error("set mtu of " + name + ": invalid mtu " + std::to_string(mtu));
  LinkPtr c = new_changes();
  rtnl_link_set_mtu(c.get(), static_cast<unsigned>(mtu));
  change_link(*impl_, name, c.get(), "set mtu of " + name + " to " + std::to_string(mtu));
}

void Netlink::set_mac(const std::string& name, const MacAddr& mac) {
  std::lock_guard lk(impl_->mu);
  LinkPtr c = new_changes();
  rtnl_link_set_addr(c.get(), mac_addr(mac).get());
  change_link(*impl_, name, c.get(), "set mac of " + name + " to " + mac_str(mac));
}

void Netlink::set_arp(const std::string& name, bool on) {
  std::lock_guard lk(impl_->mu);
  LinkPtr c = new_changes();
  if (on)
    rtnl_link_unset_flags(c.get(), IFF_NOARP);
  else
    rtnl_link_set_flags(c.get(), IFF_NOARP);
  change_link(*impl_, name, c.get(), std::string("set arp ") + (on ? "on" : "off") + " on " + name);
}

void Netlink::rename(const std::string& name, const std::string& new_name) {
  std::lock_guard lk(impl_->mu);
  std::string what = "rename " + name + " to " + new_name;
  if (new_name.empty() || new_name.size() >= IFNAMSIZ) throw_error(what + ": invalid name");
  LinkPtr c = new_changes();
  rtnl_link_set_name(c.get(), new_name.c_str());
  change_link(*impl_, name, c.get(), what);
}

void Netlink::set_netns(const std::string& name, int netns_fd) {
  std::lock_guard lk(impl_->mu);
  std::string what = "move " + name + " to netns fd " + std::to_string(netns_fd);
  if (netns_fd < 0) throw_error(what + ": invalid namespace fd");
  LinkPtr c = new_changes();
  rtnl_link_set_ns_fd(c.get(), netns_fd);
  change_link(*impl_, name, c.get(), what);
}

bool Netlink::remove_link(const std::string& name) {
  std::lock_guard lk(impl_->mu);
  Impl& im = *impl_;
  LinkPtr l(im.find_link(name));
  if (!l) return false;
  im.reset();
  int err = rtnl_link_delete(im.sk, l.get());
  if (err < 0) {
    int e = im.sys_errno(err);
    if (e == ENODEV || e == ENOENT) return false;  // raced with someone else's delete
    im.fail("remove device " + name, err);
  }
  return true;
}

std::optional<LinkInfo> Netlink::get_link(const std::string& name) {
  std::lock_guard lk(impl_->mu);
  LinkPtr l(impl_->find_link(name));
  if (!l) return std::nullopt;
  return to_link_info(l.get());
}

std::optional<LinkInfo> Netlink::get_link(int ifindex) {
  std::lock_guard lk(impl_->mu);
  if (ifindex <= 0) return std::nullopt;
  LinkPtr l(impl_->find_link(ifindex));
  if (!l) return std::nullopt;
  return to_link_info(l.get());
}

LinkInfo Netlink::require_link(const std::string& name) {
  auto l = get_link(name);
  if (!l) throw_error("device " + name + " not found");
  return *l;
}

std::vector<LinkInfo> dump_links(Netlink::Impl& im) {
  nl_cache* raw = nullptr;
  im.reset();
  int err = rtnl_link_alloc_cache(im.sk, AF_UNSPEC, &raw);
  if (err < 0) im.fail("list devices", err);
  CachePtr cache(raw);
  std::vector<LinkInfo> out;
  for (nl_object* o = nl_cache_get_first(cache.get()); o; o = nl_cache_get_next(o))
    out.push_back(to_link_info(reinterpret_cast<rtnl_link*>(o)));
  return out;
}

std::vector<LinkInfo> Netlink::list_links() {
  std::lock_guard lk(impl_->mu);
  return dump_links(*impl_);
}

}  // namespace cpp
