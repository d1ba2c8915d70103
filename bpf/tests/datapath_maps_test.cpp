// The control-plane side of the maps: ensure_maps/pinning, the typed
// wrappers and their JSON. Needs root and bpffs (tests mount it if absent).
#include <gtest/gtest.h>

#include <filesystem>

#include "datapath/endpoint_map.h"
#include "datapath/ipcache_map.h"
#include "datapath/loader.h"
#include "datapath/map_json.h"
#include "datapath/map_keys.h"
#include "datapath/program.h"
#include "fixture.h"

namespace cpp::bpftest {
namespace {

using datapath::EndpointMap;
using datapath::IpcacheMap;
using datapath::Loader;

IpPrefix prefix(const std::string& s) {
  auto p = IpPrefix::parse(s);
  if (!p) throw std::invalid_argument(s);
  return *p;
}

cpp_ipcache_value idv(uint32_t id, const std::string& tunnel = "0.0.0.0") {
  cpp_ipcache_value v{};
  v.sec_identity = id;
  std::memcpy(&v.tunnel_endpoint, ip(tunnel).bytes.data(), 4);
  return v;
}

class MapsTest : public ::testing::Test {
 protected:
  void SetUp() override { Loader(pin_.path()).ensure_maps(); }
  TestPinDir pin_;
  Topo t_;
};

TEST_F(MapsTest, EnsureMapsPinsBothMapsAndIsIdempotent) {
  namespace fs = std::filesystem;
  EXPECT_TRUE(fs::exists(pin_.path() + "/" CPP_MAP_ENDPOINTS));
  EXPECT_TRUE(fs::exists(pin_.path() + "/" CPP_MAP_IPCACHE));
  EndpointMap eps(pin_.path());
  eps.upsert(t_.b4, t_.info_b());
  // A second start of the agent, then program loads: nothing is flushed.
  Loader(pin_.path()).ensure_maps();
  { auto p = datapath::load_host_object(pin_.path(), t_.node()); }
  { auto p = datapath::load_lxc_object(pin_.path(), t_.node(), t_.pod_a(), 7); }
  EXPECT_TRUE(EndpointMap(pin_.path()).lookup(t_.b4).has_value());
}

TEST_F(MapsTest, EndpointMapUpsertLookupRemoveDump) {
  EndpointMap eps(pin_.path());
  EXPECT_FALSE(eps.lookup(t_.b4));
  eps.upsert(t_.b4, t_.info_b());
  eps.upsert(t_.b6, t_.info_b());
  eps.upsert(t_.router4, t_.info_host());
  auto got = eps.lookup(t_.b6);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->ifindex, 42u);
  EXPECT_EQ(got->lxc_id, 102);
  // Same IPv4 bytes as an IPv6 address prefix must not collide.
  EXPECT_FALSE(eps.lookup(ip("ae9:4014::")));
  auto info = t_.info_b();
  info.sec_id = 777;
  eps.upsert(t_.b4, info);
  EXPECT_EQ(eps.lookup(t_.b4)->sec_id, 777u);

  auto all = eps.dump();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].first, t_.router4);  // sorted: IPv4 first, then IPv6
  EXPECT_EQ(all[1].first, t_.b4);
  EXPECT_EQ(all[2].first, t_.b6);

  EXPECT_TRUE(eps.remove(t_.b4));
  EXPECT_FALSE(eps.remove(t_.b4));
  EXPECT_EQ(eps.dump().size(), 2u);
}

TEST_F(MapsTest, IpcacheLongestPrefixMatchAndDump) {
  IpcacheMap ipc(pin_.path());
  ipc.upsert(prefix("0.0.0.0/0"), idv(CPP_ID_WORLD));
  ipc.upsert(prefix("10.233.64.0/18"), idv(CPP_ID_REMOTE_NODE, "192.0.2.2"));
  ipc.upsert(prefix("10.233.64.20/32"), idv(300));
  ipc.upsert(prefix("::/0"), idv(CPP_ID_WORLD));
  ipc.upsert(prefix("fd00:cafe::/64"), idv(301));

  EXPECT_EQ(ipc.lookup(t_.b4)->sec_identity, 300u);
  EXPECT_EQ(ipc.lookup(ip("10.233.65.1"))->sec_identity, uint32_t{CPP_ID_REMOTE_NODE});
  EXPECT_EQ(ipc.lookup(t_.world4)->sec_identity, uint32_t{CPP_ID_WORLD});
  EXPECT_EQ(ipc.lookup(t_.b6)->sec_identity, 301u);
  EXPECT_EQ(ipc.lookup(t_.world6)->sec_identity, uint32_t{CPP_ID_WORLD});

  auto all = ipc.dump();
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[0].first.str(), "0.0.0.0/0");
  EXPECT_EQ(all[1].first.str(), "10.233.64.0/18");
  EXPECT_EQ(all[2].first.str(), "10.233.64.20/32");
  EXPECT_EQ(all[3].first.str(), "::/0");
  EXPECT_EQ(all[4].first.str(), "fd00:cafe::/64");

  EXPECT_TRUE(ipc.remove(prefix("10.233.64.20/32")));
  EXPECT_FALSE(ipc.remove(prefix("10.233.64.20/32")));
  EXPECT_EQ(ipc.lookup(t_.b4)->sec_identity, uint32_t{CPP_ID_REMOTE_NODE});
}

TEST_F(MapsTest, IpcacheKeyLayout) {
  auto k = datapath::ipcache_key(prefix("10.233.64.0/18"));
  EXPECT_EQ(k.prefixlen, 32u + 18u);
  EXPECT_EQ(k.family, CPP_FAMILY_IPV4);
  EXPECT_EQ(datapath::ipcache_key_prefix(k).str(), "10.233.64.0/18");
  // Host bits of a hand-built prefix are cleared.
  auto k2 = datapath::ipcache_key(IpPrefix{ip("10.233.64.77"), 24});
  EXPECT_EQ(datapath::ipcache_key_prefix(k2).str(), "10.233.64.0/24");
}

TEST_F(MapsTest, JsonRendering) {
  EndpointMap eps(pin_.path());
  eps.upsert(t_.b4, t_.info_b());
  eps.upsert(t_.router6, t_.info_host());
  auto j = datapath::endpoint_map_to_json(eps.dump());
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["address"], "10.233.64.20");
  EXPECT_EQ(j[0]["id"], 102);
  EXPECT_EQ(j[0]["ifindex"], 42);
  EXPECT_EQ(j[0]["mac"], "02:bb:00:00:00:01");
  EXPECT_EQ(j[0]["node_mac"], "02:bb:00:00:00:02");
  EXPECT_EQ(j[0]["host"], false);
  EXPECT_EQ(j[1]["address"], "fd00:cafe::1");
  EXPECT_EQ(j[1]["host"], true);

  IpcacheMap ipc(pin_.path());
  ipc.upsert(prefix("10.233.128.0/24"), idv(CPP_ID_REMOTE_NODE, "192.0.2.2"));
  auto ji = datapath::ipcache_to_json(ipc.dump());
  ASSERT_EQ(ji.size(), 1u);
  EXPECT_EQ(ji[0]["prefix"], "10.233.128.0/24");
  EXPECT_EQ(ji[0]["identity"], 6);
  EXPECT_EQ(ji[0]["tunnel_endpoint"], "192.0.2.2");
  EXPECT_EQ(ji[0]["skip_tunnel"], false);
}

TEST_F(MapsTest, OpeningWithWrongLayoutFails) {
  EXPECT_THROW(datapath::PinnedMap(pin_.path() + "/" CPP_MAP_ENDPOINTS, 4, 4), std::runtime_error);
  try {
    EndpointMap missing(pin_.path() + "/nope");
    FAIL() << "opened a missing map";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("nope/cpp_lxc"), std::string::npos) << e.what();
  }
}

TEST(MacTest, ParseAndFormat) {
  auto m = parse_mac("02:AB:cd:00:0f:ff");
  ASSERT_TRUE(m);
  EXPECT_EQ(mac_str(*m), "02:ab:cd:00:0f:ff");
  EXPECT_FALSE(parse_mac("02:ab:cd:00:0f"));
  EXPECT_FALSE(parse_mac("02:ab:cd:00:0f:ffx"));
}

}  // namespace
}  // namespace cpp::bpftest
