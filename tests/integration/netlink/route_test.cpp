// Routes: default via an on-link router, scope-link host routes, the
// cilium_host PodCIDR shape; IPv4 and IPv6; idempotent replace and remove.
#include <algorithm>
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
IpPrefix pfx(const std::string& s) { return *IpPrefix::parse(s); }
IpPrefix ifaddr(const std::string& s, int len) { return IpPrefix{ip(s), len}; }

// Entries of `ip -j [-6] route show table main` whose dst is `dst`.
std::vector<nlohmann::json> ip_routes(const std::string& ns, bool v6, const std::string& dst) {
  auto j = in_ns_json(ns, std::string("ip -j ") + (v6 ? "-6 " : "") + "route show table main");
  std::vector<nlohmann::json> out;
  for (const auto& r : j)
    if (r.value("dst", "") == dst) out.push_back(r);
  return out;
}

int metric_mtu(const nlohmann::json& r) {
  if (!r.contains("metrics")) return 0;
  for (const auto& m : r["metrics"])
    if (m.contains("mtu")) return m["mtu"].get<int>();
  return 0;
}

int count_matching(Netlink& nl, const Route& want) {
  int n = 0;
  for (const auto& r : nl.list_routes(want.dst.addr.v6 ? AF_INET6 : AF_INET))
    if (r.dst == want.dst && r.dev == want.dev) ++n;
  return n;
}

class RouteTest : public NsFixture {
 protected:
  void SetUp() override {
    NsFixture::SetUp();
    if (IsSkipped()) return;
    nl = std::make_unique<Netlink>(Netlink::in_netns(ha));
    // "eth0" of the node, with a /32 (/128) address and a router outside it.
    nl->create_veth("eth0", "eth0-peer", hb.fd());
    nl->set_up("eth0");
    nl->add_address("eth0", ifaddr("198.51.100.2", 32));
    nl->add_address("eth0", ifaddr("2001:db8:1::2", 128));
  }
  void TearDown() override {
    nl.reset();
    NsFixture::TearDown();
  }
  std::unique_ptr<Netlink> nl;
};

TEST_F(RouteTest, DefaultViaOnLinkRouterV4) {
  Route router{.dst = pfx("198.51.100.1/32"), .dev = "eth0", .scope = RT_SCOPE_LINK};
  Route def{.dst = pfx("0.0.0.0/0"), .via = ip("198.51.100.1"), .dev = "eth0"};
  nl->replace_route(router);
  nl->replace_route(def);

  auto r1 = ip_routes(a, false, "198.51.100.1");
  ASSERT_EQ(r1.size(), 1u);
  EXPECT_EQ(r1[0]["dev"], "eth0");
  EXPECT_EQ(r1[0]["scope"], "link");
  auto d = ip_routes(a, false, "default");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0]["gateway"], "198.51.100.1");
  EXPECT_EQ(d[0]["dev"], "eth0");

  // Our own listing agrees.
  bool found = false;
  for (const auto& r : nl->list_routes(AF_INET))
    if (r.dst == def.dst) {
      found = true;
      EXPECT_EQ(r.via, def.via);
      EXPECT_EQ(r.dev, "eth0");
      EXPECT_EQ(r.scope, RT_SCOPE_UNIVERSE);
      EXPECT_EQ(r.protocol, RTPROT_KERNEL);
    }
  EXPECT_TRUE(found);

  // Replace is idempotent: same call again, still one route.
  nl->replace_route(def);
  nl->replace_route(router);
  EXPECT_EQ(count_matching(*nl, def), 1);
  EXPECT_EQ(count_matching(*nl, router), 1);

  EXPECT_TRUE(nl->remove_route(def));
  EXPECT_FALSE(nl->remove_route(def));
  EXPECT_TRUE(ip_routes(a, false, "default").empty());
}

TEST_F(RouteTest, DefaultViaOnLinkRouterV6) {
  Route router{.dst = pfx("2001:db8:1::1/128"), .dev = "eth0", .scope = RT_SCOPE_LINK};
  Route def{.dst = pfx("::/0"), .via = ip("2001:db8:1::1"), .dev = "eth0"};
  nl->replace_route(router);
  nl->replace_route(def);
  nl->replace_route(def);

  auto r1 = ip_routes(a, true, "2001:db8:1::1");
  // The kernel keeps its own proto-kernel route for a /128 address too; ours is metric 1024.
  ASSERT_GE(r1.size(), 1u);
  auto d = ip_routes(a, true, "default");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0]["gateway"], "2001:db8:1::1");
  EXPECT_EQ(d[0]["dev"], "eth0");
  EXPECT_EQ(count_matching(*nl, def), 1);

  EXPECT_TRUE(nl->remove_route(def));
  EXPECT_FALSE(nl->remove_route(def));
  EXPECT_TRUE(ip_routes(a, true, "default").empty());
}

TEST_F(RouteTest, OnlinkFlagWithoutCoveringRoute) {
  Route def{.dst = pfx("0.0.0.0/0"), .via = ip("203.0.113.1"), .dev = "eth0", .onlink = true};
  nl->replace_route(def);
  auto d = ip_routes(a, false, "default");
  ASSERT_EQ(d.size(), 1u);
  auto flags = d[0].value("flags", nlohmann::json::array());
  EXPECT_NE(std::find(flags.begin(), flags.end(), "onlink"), flags.end()) << d[0].dump();
  bool onlink = false;
  for (const auto& r : nl->list_routes(AF_INET))
    if (r.dst == def.dst) onlink = r.onlink;
  EXPECT_TRUE(onlink);
}

class CiliumHostRouteTest : public RouteTest {
 protected:
  void SetUp() override {
    RouteTest::SetUp();
    if (IsSkipped()) return;
    nl->create_veth("cilium_host", "cilium_net");
    nl->set_arp("cilium_host", false);
    nl->set_arp("cilium_net", false);
    nl->set_up("cilium_host");
    nl->set_up("cilium_net");
  }
};

TEST_F(CiliumHostRouteTest, PodCidrViaRouterIpV4) {
  nl->add_address("cilium_host", ifaddr("10.233.64.147", 32));
  Route host{.dst = pfx("10.233.64.147/32"), .dev = "cilium_host", .scope = RT_SCOPE_LINK};
  Route pods{.dst = pfx("10.233.64.0/24"), .via = ip("10.233.64.147"), .dev = "cilium_host",
             .src = ip("10.233.64.147"), .mtu = 1450};
  nl->replace_route(host);
  nl->replace_route(pods);
  nl->replace_route(pods);

  auto r = ip_routes(a, false, "10.233.64.0/24");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]["gateway"], "10.233.64.147");
  EXPECT_EQ(r[0]["dev"], "cilium_host");
  EXPECT_EQ(r[0]["prefsrc"], "10.233.64.147");
  EXPECT_EQ(r[0]["protocol"], "kernel");
  EXPECT_EQ(metric_mtu(r[0]), 1450);
  auto h = ip_routes(a, false, "10.233.64.147");
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0]["scope"], "link");

  // Replacing with a new MTU changes the route in place.
  pods.mtu = 1400;
  nl->replace_route(pods);
  r = ip_routes(a, false, "10.233.64.0/24");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(metric_mtu(r[0]), 1400);

  Route listed;
  for (const auto& x : nl->list_routes(AF_INET))
    if (x.dst == pods.dst) listed = x;
  EXPECT_EQ(listed.via, pods.via);
  EXPECT_EQ(listed.src, pods.src);
  EXPECT_EQ(listed.dev, "cilium_host");
  EXPECT_EQ(listed.mtu, 1400);

  EXPECT_TRUE(nl->remove_route(pods));
  EXPECT_FALSE(nl->remove_route(pods));
  EXPECT_TRUE(nl->remove_route(host));
  EXPECT_TRUE(ip_routes(a, false, "10.233.64.0/24").empty());
}

TEST_F(CiliumHostRouteTest, PodCidrV6Shapes) {
  const IpAddr router = ip("fd00:10:233::1");
  // 1. The IPv4 shape cannot exist in IPv6: the kernel wants a local prefsrc and a
  //    non-local gateway. The error says so.
  nl->add_address("cilium_host", IpPrefix{router, 128});
  Route same_as_v4{.dst = pfx("fd00:10:233::/64"), .via = router, .dev = "cilium_host", .src = router,
                   .mtu = 1450};
  try {
    nl->replace_route(same_as_v4);
    FAIL() << "kernel accepted IPv6 via <local address>";
  } catch (const std::runtime_error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("fd00:10:233::/64"), std::string::npos) << m;
    EXPECT_NE(m.find("cilium_host"), std::string::npos) << m;
    std::cout << "expected IPv6 error: " << m << "\n";
  }

  // 2. PodCIDR dev cilium_host src routerIP (no gateway): works, idempotent.
  Route pods{.dst = pfx("fd00:10:233::/64"), .dev = "cilium_host", .src = router, .mtu = 1450};
  nl->replace_route(pods);
  nl->replace_route(pods);
  auto r = ip_routes(a, true, "fd00:10:233::/64");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]["prefsrc"], "fd00:10:233::1");
  EXPECT_EQ(metric_mtu(r[0]), 1450);
  EXPECT_TRUE(nl->remove_route(pods));

  // 3. PodCIDR via routerIP dev cilium_host (no src), installed before the router IP
  //    is local; re-running replace after the address exists stays a success.
  nl->remove_address("cilium_host", IpPrefix{router, 128});
  Route host{.dst = pfx("fd00:10:233::1/128"), .dev = "cilium_host", .scope = RT_SCOPE_LINK};
  Route via{.dst = pfx("fd00:10:233::/64"), .via = router, .dev = "cilium_host", .mtu = 1450};
  nl->replace_route(host);
  nl->replace_route(via);
  nl->add_address("cilium_host", IpPrefix{router, 128});
  nl->replace_route(via);  // kernel refuses a re-install; identical route present => success
  r = ip_routes(a, true, "fd00:10:233::/64");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]["gateway"], "fd00:10:233::1");
  EXPECT_EQ(count_matching(*nl, via), 1);

  // ...but a different route is still refused, with the kernel's reason.
  Route other = via;
  other.mtu = 1400;
  try {
    nl->replace_route(other);
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("local address"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(nl->remove_route(via));
  EXPECT_FALSE(nl->remove_route(via));
}

TEST_F(RouteTest, RemoveMissingIsTolerated) {
  EXPECT_FALSE(nl->remove_route(Route{.dst = pfx("192.0.2.0/24"), .dev = "eth0"}));
  EXPECT_FALSE(nl->remove_route(Route{.dst = pfx("2001:db8:9::/48"), .dev = "eth0"}));
  EXPECT_FALSE(nl->remove_route(Route{.dst = pfx("192.0.2.0/24"), .dev = "no-such-dev"}));
  try {
    nl->replace_route(Route{.dst = pfx("192.0.2.0/24"), .dev = "no-such-dev"});
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no-such-dev"), std::string::npos) << e.what();
  }
  try {  // unreachable gateway: the kernel's reason is in the message
    nl->replace_route(Route{.dst = pfx("192.0.2.0/24"), .via = ip("203.0.113.9"), .dev = "eth0"});
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("192.0.2.0/24 via 203.0.113.9 dev eth0"), std::string::npos) << m;
    std::cout << "example error: " << m << "\n";
  }
}

}  // namespace
}  // namespace nltest
