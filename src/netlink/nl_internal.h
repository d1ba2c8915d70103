#pragma once
// Private to cpp_netlink: the libnl socket, error capture and small RAII/conversion helpers.
#include <netlink/addr.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/handlers.h>
#include <netlink/socket.h>
#include <sys/socket.h>
#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/object.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/ip.h"
#include "netlink/rtnl.h"

namespace cpp {

// What the kernel said in its last NLMSG_ERROR (captured by our error callback,
// because libnl folds errno values into its own coarser codes).
struct NlError {
  int err = 0;          // positive errno, 0 = none captured
  std::string extack;   // NLMSGERR_ATTR_MSG, if any
};

struct Netlink::Impl {
  nl_sock* sk = nullptr;
  NlError last;
  std::mutex mu;

  Impl();
  ~Impl();

  // Call before each request.
  void reset() { last = NlError{}; }
  // errno of the last failure: the kernel's if captured, else derived from the libnl code.
  int sys_errno(int nlerr) const;
  // "File exists (kernel: ...)" or libnl's text.
  std::string describe(int nlerr) const;
  [[noreturn]] void fail(const std::string& what, int nlerr) const;

  // Kernel lookups without caches; nullptr if the device does not exist.
  rtnl_link* find_link(const std::string& name);
  rtnl_link* find_link(int ifindex);
  // ifindex or throw "<what>: device <name> not found".
  int ifindex_of(const std::string& name, const std::string& what);
};

[[noreturn]] void throw_error(const std::string& msg);

// ---- RAII for libnl objects ----
struct NlAddrDel { void operator()(nl_addr* a) const { nl_addr_put(a); } };
struct LinkDel { void operator()(rtnl_link* l) const { rtnl_link_put(l); } };
struct AddrDel { void operator()(rtnl_addr* a) const { rtnl_addr_put(a); } };
struct RouteDel { void operator()(rtnl_route* r) const { rtnl_route_put(r); } };
struct CacheDel { void operator()(nl_cache* c) const { nl_cache_free(c); } };
using NlAddrPtr = std::unique_ptr<nl_addr, NlAddrDel>;
using LinkPtr = std::unique_ptr<rtnl_link, LinkDel>;
using AddrPtr = std::unique_ptr<rtnl_addr, AddrDel>;
using RoutePtr = std::unique_ptr<rtnl_route, RouteDel>;
using CachePtr = std::unique_ptr<nl_cache, CacheDel>;

// ---- conversions ----
int family_of(const IpAddr& a);
NlAddrPtr to_nl_addr(const IpAddr& a, int prefixlen);
NlAddrPtr to_nl_addr(const IpPrefix& p);
// nullopt for an address of another family / size; an empty address (a default
// route's missing RTA_DST) becomes the all-zero address of `family`.
std::optional<IpAddr> from_nl_addr(const nl_addr* a, int family);
LinkInfo to_link_info(rtnl_link* l);

// Dumps without taking Impl::mu (callers hold it).
std::vector<LinkInfo> dump_links(Netlink::Impl& im);
std::vector<Route> dump_routes(Netlink::Impl& im, int family, int table);

}  // namespace cpp
