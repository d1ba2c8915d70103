// Netlink socket lifetime, namespace binding and error reporting.
#include <linux/netlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "netlink/nl_internal.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

namespace cpp {

namespace {

// Records the kernel's errno and extended-ack message, then lets libnl stop
// with its usual code (NL_STOP => -nl_syserr2nlerr(error)).
int on_nlmsgerr(sockaddr_nl*, nlmsgerr* e, void* arg) {
  auto* st = static_cast<NlError*>(arg);
  st->err = e->error < 0 ? -e->error : e->error;
  st->extack.clear();
  // e is the payload of the NLMSG_ERROR message; its header sits just before.
  const auto* hdr = reinterpret_cast<const nlmsghdr*>(reinterpret_cast<const char*>(e) - NLMSG_HDRLEN);
  if (!(hdr->nlmsg_flags & NLM_F_ACK_TLVS)) return NL_STOP;
  size_t off = sizeof(*e);
  if (!(hdr->nlmsg_flags & NLM_F_CAPPED)) off += e->msg.nlmsg_len - NLMSG_HDRLEN;
  off = NLMSG_ALIGN(off);
  const size_t total = hdr->nlmsg_len > NLMSG_HDRLEN ? hdr->nlmsg_len - NLMSG_HDRLEN : 0;
  const char* base = reinterpret_cast<const char*>(e);
  while (off + sizeof(nlattr) <= total) {
    const auto* a = reinterpret_cast<const nlattr*>(base + off);
    if (a->nla_len < sizeof(nlattr) || off + a->nla_len > total) break;
    if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) {
      const char* s = base + off + NLA_HDRLEN;
      st->extack.assign(s, strnlen(s, a->nla_len - NLA_HDRLEN));
      break;
    }
    off += NLA_ALIGN(a->nla_len);
  }
  return NL_STOP;
}

// libnl code -> errno, for failures the kernel did not report itself.
int nle_to_errno(int nlerr) {
  switch (nlerr < 0 ? -nlerr : nlerr) {
    case NLE_EXIST: return EEXIST;
    case NLE_NOADDR: return EADDRNOTAVAIL;
    case NLE_OBJ_NOTFOUND: return ENOENT;
    case NLE_NODEV: return ENODEV;
    case NLE_INVAL: return EINVAL;
    case NLE_NOMEM: return ENOMEM;
    case NLE_PERM: return EPERM;
    case NLE_NOACCESS: return EACCES;
    case NLE_BUSY: return EBUSY;
    case NLE_RANGE: return ERANGE;
    case NLE_OPNOTSUPP: return EOPNOTSUPP;
    case NLE_AF_NOSUPPORT: return EAFNOSUPPORT;
    default: return 0;
  }
}

}  // namespace

[[noreturn]] void throw_error(const std::string& msg) { throw std::runtime_error("netlink: " + msg); }

Netlink::Impl::Impl() {
  sk = nl_socket_alloc();
  if (!sk) throw_error("allocate socket: out of memory");
  int err = nl_connect(sk, NETLINK_ROUTE);
  if (err < 0) {
    nl_socket_free(sk);
    sk = nullptr;
    throw_error(std::string("connect NETLINK_ROUTE: ") + nl_geterror(err));
  }
  // Ask for the kernel's human-readable error messages, without echoing our request back.
  int one = 1;
  setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
  setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
  nl_socket_modify_err_cb(sk, NL_CB_CUSTOM, on_nlmsgerr, &last);
}

Netlink::Impl::~Impl() {
  if (sk) nl_socket_free(sk);  // also closes the fd
}

int Netlink::Impl::sys_errno(int nlerr) const { return last.err ? last.err : nle_to_errno(nlerr); }

std::string Netlink::Impl::describe(int nlerr) const {
  std::string s = last.err ? std::string(std::strerror(last.err)) : std::string(nl_geterror(nlerr));
  if (!last.extack.empty()) s += " (kernel: " + last.extack + ")";
  return s;
}

void Netlink::Impl::fail(const std::string& what, int nlerr) const {
  throw_error(what + ": " + describe(nlerr));
}

rtnl_link* Netlink::Impl::find_link(const std::string& name) {
  rtnl_link* l = nullptr;
  reset();
  int err = rtnl_link_get_kernel(sk, 0, name.c_str(), &l);
  if (err >= 0) return l;
  int e = sys_errno(err);
  if (e == ENODEV || e == ENOENT || err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV) return nullptr;
  fail("look up device " + name, err);
}

rtnl_link* Netlink::Impl::find_link(int ifindex) {
  rtnl_link* l = nullptr;
  reset();
  int err = rtnl_link_get_kernel(sk, ifindex, nullptr, &l);
  if (err >= 0) return l;
  int e = sys_errno(err);
  if (e == ENODEV || e == ENOENT || err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV) return nullptr;
  fail("look up device #" + std::to_string(ifindex), err);
}

int Netlink::Impl::ifindex_of(const std::string& name, const std::string& what) {
  LinkPtr l(find_link(name));
  if (!l) throw_error(what + ": device " + name + " not found");
  return rtnl_link_get_ifindex(l.get());
}

// ---- conversions ----

int family_of(const IpAddr& a) { return a.v6 ? AF_INET6 : AF_INET; }

NlAddrPtr to_nl_addr(const IpAddr& a, int prefixlen) {
  NlAddrPtr p(nl_addr_build(family_of(a), a.bytes.data(), a.v6 ? 16 : 4));
  if (!p) throw_error("allocate address: out of memory");
  nl_addr_set_prefixlen(p.get(), prefixlen);
  return p;
}

NlAddrPtr to_nl_addr(const IpPrefix& p) { return to_nl_addr(p.addr, p.len); }

std::optional<IpAddr> from_nl_addr(const nl_addr* a, int family) {
  IpAddr r;
  r.v6 = family == AF_INET6;
  if (!a) return std::nullopt;
  unsigned len = nl_addr_get_len(a);
  if (len == 0) return r;  // e.g. the missing RTA_DST of a default route
  if (len != (r.v6 ? 16u : 4u)) return std::nullopt;
  std::memcpy(r.bytes.data(), nl_addr_get_binary_addr(a), len);
  return r;
}

// ---- object lifetime ----

Netlink::Netlink() : impl_(std::make_unique<Impl>()) {}
Netlink::~Netlink() = default;
Netlink::Netlink(Netlink&&) noexcept = default;
Netlink& Netlink::operator=(Netlink&&) noexcept = default;

Netlink Netlink::in_netns(const NetnsHandle& ns) {
  return run_in_netns(ns, [] { return Netlink(); });
}

}  // namespace cpp
