// Addresses: IPv4 and IPv6 (nodad), idempotent add/remove.
#include <algorithm>
#include <memory>

#include "netlink/rtnl.h"
#include "test_env.h"

namespace nltest {
namespace {

using cpp::IpAddr;
using cpp::IpPrefix;
using cpp::Netlink;

IpPrefix ifaddr(const std::string& ip, int len) { return IpPrefix{*IpAddr::parse(ip), len}; }

bool has(const std::vector<IpPrefix>& v, const IpPrefix& p) { return std::find(v.begin(), v.end(), p) != v.end(); }

class AddrTest : public NsFixture {};

TEST_F(AddrTest, AddListRemoveV4AndV6) {
  Netlink nl = Netlink::in_netns(ha);
  nl.create_veth("veth-a", "veth-b", hb.fd());
  nl.set_up("veth-a");
  const IpPrefix v4 = ifaddr("192.0.2.1", 24);  // host bits kept
  const IpPrefix v6 = ifaddr("2001:db8::1", 64);
  const IpPrefix router = ifaddr("10.233.64.147", 32);

  EXPECT_TRUE(nl.add_address("veth-a", v4));
  EXPECT_FALSE(nl.add_address("veth-a", v4)) << "existing address is not an error";
  EXPECT_TRUE(nl.add_address("veth-a", v6));
  EXPECT_FALSE(nl.add_address("veth-a", v6));
  EXPECT_TRUE(nl.add_address("veth-a", router));

  auto list = nl.list_addresses("veth-a");
  EXPECT_TRUE(has(list, v4));
  EXPECT_TRUE(has(list, v6));
  EXPECT_TRUE(has(list, router));

  // iproute2's view: the IPv6 address is usable at once (nodad, not tentative).
  auto j = in_ns_json(a, "ip -j addr show dev veth-a");
  bool seen_v6 = false;
  for (const auto& ai : j[0]["addr_info"]) {
    if (ai.value("local", "") != "2001:db8::1") continue;
    seen_v6 = true;
    EXPECT_EQ(ai.value("prefixlen", 0), 64);
    EXPECT_FALSE(ai.value("tentative", false)) << ai.dump();
    EXPECT_TRUE(ai.value("nodad", false)) << ai.dump();
  }
  EXPECT_TRUE(seen_v6) << j.dump();

  EXPECT_TRUE(nl.remove_address("veth-a", v4));
  EXPECT_FALSE(nl.remove_address("veth-a", v4));
  EXPECT_TRUE(nl.remove_address("veth-a", v6));
  EXPECT_FALSE(nl.remove_address("veth-a", v6));
  list = nl.list_addresses("veth-a");
  EXPECT_FALSE(has(list, v4));
  EXPECT_FALSE(has(list, v6));
  EXPECT_TRUE(has(list, router));
  EXPECT_FALSE(nl.remove_address("no-such-dev", v4));
}

TEST_F(AddrTest, WithoutNodadIpv6StartsTentative) {
  Netlink nl = Netlink::in_netns(ha);
  nl.create_veth("veth-a", "veth-b", hb.fd());
  nl.set_up("veth-a");
  nlohmann::json j;
  EXPECT_TRUE(nl.add_address("veth-a", ifaddr("2001:db8::5", 64), /*nodad=*/false));
  j = in_ns_json(a, "ip -j -6 addr show dev veth-a");
  bool nodad = false;
  for (const auto& ai : j[0]["addr_info"])
    if (ai.value("local", "") == "2001:db8::5") nodad = ai.value("nodad", false);
  EXPECT_FALSE(nodad);
}

TEST_F(AddrTest, ErrorsNameAddressAndDevice) {
  Netlink nl = Netlink::in_netns(ha);
  try {
    nl.add_address("no-such-dev", ifaddr("192.0.2.9", 24));
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("192.0.2.9/24"), std::string::npos) << m;
    EXPECT_NE(m.find("no-such-dev"), std::string::npos) << m;
  }
  EXPECT_THROW(nl.list_addresses("no-such-dev"), std::runtime_error);
}

}  // namespace
}  // namespace nltest
