#pragma once
// cpp::Netlink: one rtnetlink socket bound to one network namespace.
//
// Namespace rule: the socket belongs to the namespace of the thread that
// constructed the object, and keeps it for its whole life, whatever thread
// later uses it. To manage another namespace, build the object there:
//     auto nl = cpp::Netlink::in_netns(cpp::NetnsHandle::open_name("cpp-x"));
// Methods are serialised by an internal mutex, so one object may be shared
// between threads.
//
// Errors: every failure throws std::runtime_error whose message names the
// step, the device / address / route, and the kernel's error text (errno text
// plus the extended-ack message when the kernel gives one), e.g.
//   "netlink: replace route fd00::/64 via fd00::1 dev cilium_host table 254:
//    Invalid argument (kernel: Gateway can not be a local address)"
// "Already there" / "already gone" outcomes that a reconciler expects are not
// errors; they are reported through bool results instead.
#include <sys/socket.h>  // AF_INET / AF_INET6 for list_routes

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/ip.h"
#include "netlink/link.h"
#include "netlink/netns.h"
#include "netlink/route.h"

namespace cpp {

class Netlink {
 public:
  // Opens NETLINK_ROUTE in the calling thread's namespace.
  Netlink();
  // Netlink() constructed on a run_in_netns() thread.
  static Netlink in_netns(const NetnsHandle& ns);
  ~Netlink();
  Netlink(Netlink&&) noexcept;
  Netlink& operator=(Netlink&&) noexcept;
  Netlink(const Netlink&) = delete;
  Netlink& operator=(const Netlink&) = delete;

  // ---- links (link.cpp) ----
  // Creates veth `name` here and its peer `peer_name` in the namespace open as
  // peer_netns_fd (-1: this namespace), atomically (one RTM_NEWLINK with
  // NLM_F_EXCL). mtu 0 = kernel default; MACs default to random. Both ends are
  // left down. If anything fails after the kernel created the pair, the pair
  // is removed before the exception leaves. Returns the local end.
  LinkInfo create_veth(const std::string& name, const std::string& peer_name,
                       int peer_netns_fd = -1, int mtu = 0,
                       std::optional<MacAddr> mac = std::nullopt,
                       std::optional<MacAddr> peer_mac = std::nullopt);
  void set_up(const std::string& name);
  void set_down(const std::string& name);
  void set_mtu(const std::string& name, int mtu);
  void set_mac(const std::string& name, const MacAddr& mac);
  // on=false sets IFF_NOARP (cilium_host / cilium_net are NOARP).
  void set_arp(const std::string& name, bool on);
  // The kernel refuses to rename a device that is up (EBUSY): set_down first.
  void rename(const std::string& name, const std::string& new_name);
  // Moves the device into the namespace open as netns_fd.
  void set_netns(const std::string& name, int netns_fd);
  // false if there was no such device.
  bool remove_link(const std::string& name);
  std::optional<LinkInfo> get_link(const std::string& name);
  std::optional<LinkInfo> get_link(int ifindex);
  // get_link(name) or throw "... device <name> not found".
  LinkInfo require_link(const std::string& name);
  std::vector<LinkInfo> list_links();

  // ---- VXLAN (vxlan.cpp) ----
  // Creates an external (collect_md) VXLAN device: no VNI, no remote, UDP
  // destination port dst_port, learning off; left down. mtu 0 = kernel
  // default. Throws if the name is taken.
  LinkInfo create_vxlan_external(const std::string& name, uint16_t dst_port, int mtu = 0);
  // The VXLAN attributes of an existing device; nullopt if there is no such
  // device or it is not a VXLAN device.
  std::optional<VxlanSettings> vxlan_settings(const std::string& name);

  // ---- addresses (addr.cpp) ----
  // `addr` is used verbatim: IpPrefix{IpAddr::parse("10.0.0.5").value(), 24}
  // (IpPrefix::parse clears host bits, so build interface addresses by hand).
  // Returns false (no error) if the address already exists on the device.
  bool add_address(const std::string& ifname, const IpPrefix& addr, bool nodad = true);
  // false if the address was not there.
  bool remove_address(const std::string& ifname, const IpPrefix& addr);
  // Every address of the device, IPv4 and IPv6 (including fe80:: link-local),
  // host bits kept.
  std::vector<IpPrefix> list_addresses(const std::string& ifname);

  // ---- routes (route.cpp) ----
  // Creates or replaces (NLM_F_CREATE|NLM_F_REPLACE) the route. Idempotent:
  // if the kernel refuses but an identical route is already installed, this
  // is a success.
  void replace_route(const Route& r);
  // Deletes the route matching dst/table/dev/via (and scope for IPv4), whatever
  // its protocol, src or metrics.
  // false if there was no such route, or its device does not exist.
  bool remove_route(const Route& r);
  // family AF_INET, AF_INET6 or AF_UNSPEC; table 0 (RT_TABLE_UNSPEC) = all tables.
  // Multipath routes are reported with their first next hop.
  std::vector<Route> list_routes(int family, int table = RT_TABLE_MAIN);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace cpp
