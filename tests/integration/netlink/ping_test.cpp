// Real traffic over veth pairs configured only through cpp::Netlink.
#include <iostream>
#include <memory>

#include "netlink/rtnl.h"
#include "test_env.h"

namespace nltest {
namespace {

using cpp::IpAddr;
using cpp::IpPrefix;
using cpp::Netlink;
using cpp::Route;

IpAddr ip(const std::string& s) { return *IpAddr::parse(s); }
IpPrefix ifaddr(const std::string& s, int len) { return IpPrefix{ip(s), len}; }

bool ping(const std::string& from_ns, const std::string& to) {
  int rc = 0;
  std::string out = in_ns(from_ns, "ping -c1 -i0.2 -w10 " + to, &rc);
  if (rc != 0) std::cerr << "ping " << to << " from " << from_ns << " failed:\n" << out;
  return rc == 0;
}

class PingTest : public NsFixture {};

TEST_F(PingTest, SameSubnetV4AndV6) {
  Netlink na = Netlink::in_netns(ha);
  Netlink nb = Netlink::in_netns(hb);
  na.create_veth("veth-a", "veth-b", hb.fd(), 1500);
  na.add_address("veth-a", ifaddr("192.0.2.1", 24));
  na.add_address("veth-a", ifaddr("2001:db8::1", 64));
  nb.add_address("veth-b", ifaddr("192.0.2.2", 24));
  nb.add_address("veth-b", ifaddr("2001:db8::2", 64));
  na.set_up("veth-a");
  nb.set_up("veth-b");

  EXPECT_TRUE(ping(a, "192.0.2.2"));
  EXPECT_TRUE(ping(b, "192.0.2.1"));
  EXPECT_TRUE(ping(a, "2001:db8::2"));
  EXPECT_TRUE(ping(b, "2001:db8::1"));
}

// The pod shape: /32 and /128 addresses, a scope-link route to the router and a
// default route via it; the node side routes the pod address to the veth.
TEST_F(PingTest, PodStyleHostRoutesV4AndV6) {
  Netlink node = Netlink::in_netns(ha);
  Netlink pod = Netlink::in_netns(hb);
  node.create_veth("lxc-pod", "eth0", hb.fd(), 1450);

  node.add_address("lxc-pod", ifaddr("10.233.64.1", 32));
  node.add_address("lxc-pod", ifaddr("fd00:10:233::1", 128));
  pod.add_address("eth0", ifaddr("10.233.64.10", 32));
  pod.add_address("eth0", ifaddr("fd00:10:233::10", 128));
  node.set_up("lxc-pod");
  pod.set_up("eth0");

  node.replace_route(Route{.dst = *IpPrefix::parse("10.233.64.10/32"), .dev = "lxc-pod", .scope = RT_SCOPE_LINK});
  node.replace_route(Route{.dst = *IpPrefix::parse("fd00:10:233::10/128"), .dev = "lxc-pod"});
  pod.replace_route(Route{.dst = *IpPrefix::parse("10.233.64.1/32"), .dev = "eth0", .scope = RT_SCOPE_LINK});
  pod.replace_route(Route{.dst = *IpPrefix::parse("0.0.0.0/0"), .via = ip("10.233.64.1"), .dev = "eth0"});
  pod.replace_route(Route{.dst = *IpPrefix::parse("fd00:10:233::1/128"), .dev = "eth0"});
  pod.replace_route(Route{.dst = *IpPrefix::parse("::/0"), .via = ip("fd00:10:233::1"), .dev = "eth0"});

  EXPECT_TRUE(ping(b, "10.233.64.1"));
  EXPECT_TRUE(ping(a, "10.233.64.10"));
  EXPECT_TRUE(ping(b, "fd00:10:233::1"));
  EXPECT_TRUE(ping(a, "fd00:10:233::10"));
}

}  // namespace
}  // namespace nltest
