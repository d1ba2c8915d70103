#pragma once
// A node with two pods, as the packet tests see it: the program under test
// serves pod A; pod B is another endpoint on the node; the router addresses
// are the node's own (CPP_EP_F_HOST).
#include <gtest/gtest.h>

#include <memory>
#include <optional>

#include "datapath/consts.h"
#include "datapath/endpoint_map.h"
#include "datapath/loader.h"
#include "datapath/program.h"
#include "test_util.h"

namespace cpp::bpftest {

struct Topo {
  IpAddr router4 = ip("10.233.64.1");
  IpAddr router6 = ip("fd00:cafe::1");
  IpAddr a4 = ip("10.233.64.10"), a6 = ip("fd00:cafe::10");  // pod A
  IpAddr b4 = ip("10.233.64.20"), b6 = ip("fd00:cafe::20");  // pod B
  IpAddr a_ll = ip("fe80::a");                               // pod A link-local
  IpAddr world4 = ip("203.0.113.7"), world6 = ip("2001:db8::7");
  MacAddr a_mac{0x02, 0xaa, 0, 0, 0, 0x01};      // pod A eth0
  MacAddr a_lxc_mac{0x02, 0xaa, 0, 0, 0, 0x02};  // host side of pod A (its router MAC)
  MacAddr b_mac{0x02, 0xbb, 0, 0, 0, 0x01};
  MacAddr b_lxc_mac{0x02, 0xbb, 0, 0, 0, 0x02};
  MacAddr host_mac{0x02, 0xcc, 0, 0, 0, 0x01};   // cilium_host
  int a_ifindex = 41, b_ifindex = 42;

  datapath::NodeConsts node(bool v4 = true, bool v6 = true) const {
    datapath::NodeConsts n;
    n.enable_ipv4 = v4;
    n.enable_ipv6 = v6;
    n.router_ipv4 = router4;
    n.router_ipv6 = router6;
    return n;
  }
  datapath::EndpointConsts pod_a() const {
    datapath::EndpointConsts e;
    e.id = 101;
    e.lxc_mac = a_lxc_mac;
    e.ipv4 = a4;
    e.ipv6 = a6;
    e.sec_label = 12345;
    return e;
  }
  datapath::EndpointConsts pod_b() const {
    datapath::EndpointConsts e;
    e.id = 102;
    e.lxc_mac = b_lxc_mac;
    e.ipv4 = b4;
    e.ipv6 = b6;
    e.sec_label = 2000;
    return e;
  }
  cpp_endpoint_info info_a() const {
    cpp_endpoint_info i{};
    i.ifindex = static_cast<uint32_t>(a_ifindex);
    i.lxc_id = 101;
    std::copy(a_mac.begin(), a_mac.end(), i.mac);
    std::copy(a_lxc_mac.begin(), a_lxc_mac.end(), i.node_mac);
    return i;
  }
  cpp_endpoint_info info_b() const {
    cpp_endpoint_info i{};
    i.ifindex = static_cast<uint32_t>(b_ifindex);
    i.lxc_id = 102;
    std::copy(b_mac.begin(), b_mac.end(), i.mac);
    std::copy(b_lxc_mac.begin(), b_lxc_mac.end(), i.node_mac);
    return i;
  }
  cpp_endpoint_info info_host() const {
    cpp_endpoint_info i{};
    i.flags = CPP_EP_F_HOST;
    std::copy(host_mac.begin(), host_mac.end(), i.node_mac);
    return i;
  }
};

// Fresh pin dir and maps per test, pod B and the router in cpp_lxc.
class DatapathFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    datapath::Loader(pin_.path()).ensure_maps();
    eps_ = std::make_unique<datapath::EndpointMap>(pin_.path());
    for (const auto& a : {t_.b4, t_.b6}) eps_->upsert(a, t_.info_b());
    for (const auto& a : {t_.router4, t_.router6}) eps_->upsert(a, t_.info_host());
  }

  TestPinDir pin_;  // first member: removed last, also when SetUp fails
  Topo t_;
  std::unique_ptr<datapath::EndpointMap> eps_;
};

}  // namespace cpp::bpftest
