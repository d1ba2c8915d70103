// Links: veth across namespaces, attribute changes, removal, failure paths.
#include <algorithm>
#include <functional>
#include <iostream>
#include <memory>
#include <set>
#include <stdexcept>

#include "netlink/rtnl.h"
#include "test_env.h"

namespace nltest {
namespace {

using cpp::LinkInfo;
using cpp::MacAddr;
using cpp::Netlink;

std::set<std::string> link_names(Netlink& nl) {
  std::set<std::string> s;
  for (const auto& l : nl.list_links()) s.insert(l.name);
  return s;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

class LinkTest : public NsFixture {
 protected:
  void SetUp() override {
    NsFixture::SetUp();
    if (IsSkipped()) return;
    nla = std::make_unique<Netlink>(Netlink::in_netns(ha));
    nlb = std::make_unique<Netlink>(Netlink::in_netns(hb));
  }
  void TearDown() override {
    nla.reset();
    nlb.reset();
    NsFixture::TearDown();
  }
  std::unique_ptr<Netlink> nla, nlb;
};

TEST_F(LinkTest, VethAcrossNamespacesHasNameMtuAndMacOnBothEnds) {
  const MacAddr mac_a = *cpp::parse_mac("02:00:00:00:0a:01");
  const MacAddr mac_b = *cpp::parse_mac("02:00:00:00:0b:01");
  LinkInfo la = nla->create_veth("veth-a", "veth-b", hb.fd(), 1400, mac_a, mac_b);
  EXPECT_EQ(la.name, "veth-a");
  EXPECT_EQ(la.kind, "veth");
  EXPECT_EQ(la.mtu, 1400);
  EXPECT_EQ(la.mac, mac_a);
  EXPECT_FALSE(la.up);
  EXPECT_GT(la.peer_ifindex, 0);

  EXPECT_FALSE(nla->get_link("veth-b").has_value()) << "peer must not stay in the creating namespace";
  auto lb = nlb->get_link("veth-b");
  ASSERT_TRUE(lb.has_value());
  EXPECT_EQ(lb->mtu, 1400);
  EXPECT_EQ(lb->mac, mac_b);
  EXPECT_EQ(lb->ifindex, la.peer_ifindex);
  EXPECT_EQ(lb->peer_ifindex, la.ifindex);
  auto by_index = nlb->get_link(la.peer_ifindex);
  ASSERT_TRUE(by_index.has_value());
  EXPECT_EQ(by_index->name, "veth-b");

  // Cross-check with iproute2 inside b.
  auto j = in_ns_json(b, "ip -j link show veth-b");
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["mtu"], 1400);
  EXPECT_EQ(j[0]["address"], "02:00:00:00:0b:01");
  EXPECT_EQ(j[0]["ifname"], "veth-b");
}

TEST_F(LinkTest, VethInOneNamespaceGetsRandomDistinctMacs) {
  LinkInfo host = nla->create_veth("cilium_host", "cilium_net");
  auto net = nla->get_link("cilium_net");
  ASSERT_TRUE(net.has_value());
  EXPECT_EQ(host.peer_ifindex, net->ifindex);
  EXPECT_EQ(net->peer_ifindex, host.ifindex);
  EXPECT_NE(host.mac, MacAddr{});
  EXPECT_NE(host.mac, net->mac);
  EXPECT_EQ(host.mtu, 1500);
  auto j = in_ns_json(a, "ip -j link show cilium_host");
  EXPECT_EQ(j[0]["address"], cpp::mac_str(host.mac));
}

TEST_F(LinkTest, AttributeChanges) {
  nla->create_veth("veth-a", "veth-b", hb.fd());
  nla->set_up("veth-a");
  EXPECT_TRUE(nla->get_link("veth-a")->up);
  nla->set_mtu("veth-a", 1450);
  EXPECT_EQ(nla->get_link("veth-a")->mtu, 1450);
  const MacAddr mac = *cpp::parse_mac("0a:58:0a:e9:40:01");
  nla->set_mac("veth-a", mac);
  EXPECT_EQ(nla->get_link("veth-a")->mac, mac);

  nla->set_arp("veth-a", false);
  EXPECT_TRUE(nla->get_link("veth-a")->noarp);
  auto flags = in_ns_json(a, "ip -j link show veth-a")[0]["flags"];
  EXPECT_NE(std::find(flags.begin(), flags.end(), "NOARP"), flags.end()) << flags.dump();
  nla->set_arp("veth-a", true);
  EXPECT_FALSE(nla->get_link("veth-a")->noarp);
  EXPECT_TRUE(nla->get_link("veth-a")->up) << "changing one flag must keep the others";

  nla->set_down("veth-a");
  EXPECT_FALSE(nla->get_link("veth-a")->up);
  int ifindex = nla->get_link("veth-a")->ifindex;
  nla->rename("veth-a", "lxc0123456789a");
  EXPECT_FALSE(nla->get_link("veth-a").has_value());
  auto renamed = nla->get_link(ifindex);
  ASSERT_TRUE(renamed.has_value());
  EXPECT_EQ(renamed->name, "lxc0123456789a");
  EXPECT_EQ(renamed->mtu, 1450);

  auto names = link_names(*nla);
  EXPECT_TRUE(names.count("lo"));
  EXPECT_TRUE(names.count("lxc0123456789a"));
  EXPECT_FALSE(names.count("veth-b"));
}

TEST_F(LinkTest, MoveToAnotherNamespace) {
  nla->create_veth("veth-a", "veth-b");
  nla->set_netns("veth-b", hb.fd());
  EXPECT_FALSE(nla->get_link("veth-b").has_value());
  auto lb = nlb->get_link("veth-b");
  ASSERT_TRUE(lb.has_value());
  EXPECT_EQ(nla->get_link("veth-a")->peer_ifindex, lb->ifindex);
}

TEST_F(LinkTest, RemoveIsIdempotentAndTakesThePeerAlong) {
  nla->create_veth("veth-a", "veth-b", hb.fd());
  EXPECT_TRUE(nla->remove_link("veth-a"));
  EXPECT_FALSE(nla->remove_link("veth-a"));
  EXPECT_FALSE(nlb->get_link("veth-b").has_value());
  EXPECT_FALSE(nla->remove_link("never-existed"));
  EXPECT_FALSE(nla->get_link("never-existed").has_value());
  EXPECT_FALSE(nla->get_link(999999).has_value());
}

TEST_F(LinkTest, CreateWithExistingNameFailsClearlyAndLeavesNothing) {
  nla->create_veth("veth-a", "veth-b", hb.fd());
  const auto before_a = link_names(*nla);
  const auto before_b = link_names(*nlb);

  std::string e1 = error_of([&] { nla->create_veth("veth-a", "veth-c", hb.fd()); });
  EXPECT_TRUE(contains(e1, "veth-a") && contains(e1, "already exists")) << e1;

  std::string e2 = error_of([&] { nla->create_veth("veth-x", "veth-b", hb.fd()); });
  EXPECT_TRUE(contains(e2, "veth-b") && contains(e2, "already exists") && contains(e2, "peer")) << e2;

  std::string e3 = error_of([&] { nla->create_veth("veth-y", "veth-a"); });  // peer clashes in the same ns
  EXPECT_TRUE(contains(e3, "veth-a") && contains(e3, "already exists")) << e3;

  EXPECT_EQ(link_names(*nla), before_a);
  EXPECT_EQ(link_names(*nlb), before_b);
}

TEST_F(LinkTest, ErrorsNameTheDeviceTheStepAndTheKernelReason) {
  std::string e = error_of([&] { nla->set_mtu("nope0", 1500); });
  EXPECT_TRUE(contains(e, "nope0") && contains(e, "not found") && contains(e, "set mtu")) << e;

  nla->create_veth("veth-a", "veth-b", hb.fd());
  e = error_of([&] { nla->set_mtu("veth-a", 1000000); });
  EXPECT_TRUE(contains(e, "veth-a") && contains(e, "1000000") && contains(e, "Invalid argument")) << e;
  std::cout << "example error: " << e << "\n";

  e = error_of([&] { nla->create_veth("this-name-is-too-long", "x"); });
  EXPECT_TRUE(contains(e, "this-name-is-too-long")) << e;
  e = error_of([&] { nla->rename("veth-a", "veth-a-renamed-too-long"); });
  EXPECT_FALSE(e.empty());
  e = error_of([&] { nla->set_netns("veth-a", -1); });
  EXPECT_FALSE(e.empty());
  EXPECT_TRUE(nla->get_link("veth-a").has_value());
}

}  // namespace
}  // namespace nltest
