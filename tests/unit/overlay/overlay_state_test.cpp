// The overlay's desired state from CiliumNode / CiliumEndpoint objects.
#include <gtest/gtest.h>

#include <ciliumpp/abi.h>

#include "agent/overlay_state.h"

using namespace cpp;
using namespace cpp::agent;
using nlohmann::json;

namespace {

IpAddr a(const char* s) { return *IpAddr::parse(s); }
IpPrefix p(const char* s) { return *IpPrefix::parse(s); }
IpPrefix host(const char* s) { return IpPrefix{a(s), a(s).bits()}; }

json node(const std::string& name, const std::string& internal, const std::string& router,
          std::vector<std::string> cidrs) {
  json n{{"apiVersion", "cilium.io/v2"},
         {"kind", "CiliumNode"},
         {"metadata", {{"name", name}}},
         {"spec",
          {{"addresses", json::array({{{"type", "InternalIP"}, {"ip", internal}}, {{"type", "CiliumInternalIP"}, {"ip", router}}})},
           {"ipam", {{"podCIDRs", cidrs}}}}}};
  return n;
}

json cep(const std::string& name, const std::string& node_ip, uint32_t id, const std::string& v4,
         const std::string& v6) {
  json addr = json::object();
  if (!v4.empty()) addr["ipv4"] = v4;
  if (!v6.empty()) addr["ipv6"] = v6;
  return {{"apiVersion", "cilium.io/v2"},
          {"kind", "CiliumEndpoint"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"status",
           {{"identity", {{"id", id}}},
            {"networking", {{"addressing", json::array({addr})}, {"node", node_ip}}}}}};
}

OverlaySelf self_a() {
  OverlaySelf s;
  s.node_name = "node-a";
  s.node_ips = {a("192.0.2.1")};
  s.pod_cidrs = {p("10.233.64.0/24"), p("fd00:10:233:1::/64")};
  return s;
}

std::optional<IpcacheClaim> claim(const OverlayState& st, const IpPrefix& k, IpcacheSource src) {
  auto it = st.ipcache.find({k, src});
  if (it == st.ipcache.end()) return std::nullopt;
  return it->second;
}

}  // namespace

TEST(OverlayState, OtherNodesGiveTunnelRoutesNodeIdentitiesAndRoutes) {
  std::vector<json> nodes = {node("node-a", "192.0.2.1", "10.233.64.1", {"10.233.64.0/24", "fd00:10:233:1::/64"}),
                             node("node-b", "192.0.2.2", "10.233.65.1", {"10.233.65.0/24", "fd00:10:233:2::/64"})};
  auto st = compute_overlay_state(self_a(), nodes, {});
  EXPECT_TRUE(st.warnings.empty()) << st.warnings.front();
  EXPECT_EQ(st.routes, (std::set<IpPrefix>{p("10.233.65.0/24"), p("fd00:10:233:2::/64")})) << "only the other node's";
  EXPECT_EQ(claim(st, p("10.233.65.0/24"), IpcacheSource::TunnelRoute), (IpcacheClaim{CPP_ID_WORLD, a("192.0.2.2")}));
  EXPECT_EQ(claim(st, p("fd00:10:233:2::/64"), IpcacheSource::TunnelRoute),
            (IpcacheClaim{CPP_ID_WORLD, a("192.0.2.2")}))
      << "IPv6 pods ride the IPv4 underlay";
  EXPECT_EQ(claim(st, host("192.0.2.2"), IpcacheSource::RemoteNode), (IpcacheClaim{CPP_ID_REMOTE_NODE, std::nullopt}))
      << "the underlay address is reached natively";
  EXPECT_EQ(claim(st, host("10.233.65.1"), IpcacheSource::RemoteNode),
            (IpcacheClaim{CPP_ID_REMOTE_NODE, a("192.0.2.2")}))
      << "the router IP lives behind the tunnel";
  EXPECT_EQ(st.ipcache.size(), 4u) << "nothing for node-a itself";
}

TEST(OverlayState, RemoteHealthEndpointsHaveTheHealthIdentityBehindTheTunnel) {
  json b = node("node-b", "192.0.2.2", "10.233.65.1", {"10.233.65.0/24"});
  b["spec"]["health"] = {{"ipv4", "10.233.65.2"}, {"ipv6", "fd00:10:233:2::2"}};
  auto st = compute_overlay_state(self_a(), {b}, {});
  EXPECT_EQ(claim(st, host("10.233.65.2"), IpcacheSource::RemoteEndpoint),
            (IpcacheClaim{CPP_ID_HEALTH, a("192.0.2.2")}));
  EXPECT_EQ(claim(st, host("fd00:10:233:2::2"), IpcacheSource::RemoteEndpoint),
            (IpcacheClaim{CPP_ID_HEALTH, a("192.0.2.2")}));
}

TEST(OverlayState, RemoteEndpointsCarryTheirIdentityAndNodeLocalOnesAreSkipped) {
  std::vector<json> ceps = {cep("web", "192.0.2.2", 300, "10.233.65.7", "fd00:10:233:2::7"),
                            cep("mine", "192.0.2.1", 301, "10.233.64.9", "")};
  auto st = compute_overlay_state(self_a(), {}, ceps);
  EXPECT_TRUE(st.warnings.empty());
  EXPECT_EQ(claim(st, host("10.233.65.7"), IpcacheSource::RemoteEndpoint), (IpcacheClaim{300, a("192.0.2.2")}));
  EXPECT_EQ(claim(st, host("fd00:10:233:2::7"), IpcacheSource::RemoteEndpoint), (IpcacheClaim{300, a("192.0.2.2")}));
  EXPECT_FALSE(claim(st, host("10.233.64.9"), IpcacheSource::RemoteEndpoint)) << "this node's endpoint";
  EXPECT_TRUE(st.routes.empty());
}

TEST(OverlayState, RemovingObjectsRemovesTheirEntries) {
  std::vector<json> nodes = {node("node-b", "192.0.2.2", "10.233.65.1", {"10.233.65.0/24"}),
                             node("node-c", "192.0.2.3", "10.233.66.1", {"10.233.66.0/24"})};
  std::vector<json> ceps = {cep("b1", "192.0.2.2", 300, "10.233.65.7", ""), cep("c1", "192.0.2.3", 301, "10.233.66.7", "")};
  auto before = compute_overlay_state(self_a(), nodes, ceps);
  nodes.pop_back();
  ceps.pop_back();
  auto after = compute_overlay_state(self_a(), nodes, ceps);
  EXPECT_EQ(before.routes.size(), 2u);
  EXPECT_EQ(after.routes, (std::set<IpPrefix>{p("10.233.65.0/24")}));
  for (const auto& [key, _] : after.ipcache) EXPECT_EQ(key.first.str().find("10.233.66."), std::string::npos);
  EXPECT_FALSE(claim(after, host("192.0.2.3"), IpcacheSource::RemoteNode));
  EXPECT_EQ(after.ipcache.size(), before.ipcache.size() - 4);
}

TEST(OverlayState, BadObjectsAreSkippedWithAWarningNamingThem) {
  json no_internal = node("node-d", "2001:db8::4", "10.233.67.1", {"10.233.67.0/24"});
  json bad_cidr = node("node-e", "192.0.2.5", "10.233.68.1", {"10.233.68.0/33"});
  json overlapping = node("node-f", "192.0.2.6", "10.233.64.129", {"10.233.64.128/25"});
  json bad_addresses = node("node-g", "192.0.2.7", "10.233.69.1", {});
  bad_addresses["spec"]["addresses"] = "nope";
  json cep_no_id = cep("x", "192.0.2.2", 0, "10.233.65.8", "");
  json cep_bad_ip = cep("y", "192.0.2.2", 302, "10.233.65.300", "");
  auto st = compute_overlay_state(self_a(), {no_internal, bad_cidr, overlapping, bad_addresses}, {cep_no_id, cep_bad_ip});
  auto has = [&](const std::string& s) {
    for (const auto& w : st.warnings)
      if (w.find(s) != std::string::npos) return true;
    return false;
  };
  EXPECT_TRUE(has("CiliumNode node-d: no IPv4 InternalIP"));
  EXPECT_TRUE(has("CiliumNode node-e: spec.ipam.podCIDRs[0] is not a CIDR"));
  EXPECT_TRUE(has("CiliumNode node-f: PodCIDR 10.233.64.128/25 overlaps this node's own"));
  EXPECT_TRUE(has("CiliumNode node-g: spec.addresses is not a list"));
  EXPECT_TRUE(has("CiliumEndpoint default/x: status.identity.id"));
  EXPECT_TRUE(has("CiliumEndpoint default/y: status.networking.addressing[0].ipv4"));
  EXPECT_TRUE(st.routes.empty());
  EXPECT_TRUE(claim(st, host("192.0.2.6"), IpcacheSource::RemoteNode)) << "node-f's address is still a remote node";
}
