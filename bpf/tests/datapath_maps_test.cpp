// The control-plane side of the maps: ensure_maps/pinning, the typed
// wrappers and their JSON. Needs root and bpffs (tests mount it if absent).
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "datapath/conntrack_map.h"
#include "datapath/endpoint_map.h"
#include "datapath/policy_map.h"
#include "datapath/ipcache_map.h"
#include "datapath/loader.h"
#include "datapath/event_reader.h"
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

// --- policy, conntrack and event maps ---------------------------------------------

bpf_map_info map_info(const std::string& path) {
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0) throw std::runtime_error("no pin " + path);
  bpf_map_info info{};
  uint32_t len = sizeof(info);
  int err = bpf_obj_get_info_by_fd(fd, &info, &len);
  ::close(fd);
  if (err) throw std::runtime_error("info " + path);
  return info;
}

TEST_F(MapsTest, EnsureMapsPinsPolicyConntrackAndEventMaps) {
  auto pol = map_info(pin_.path() + "/" CPP_MAP_POLICY);
  EXPECT_EQ(pol.type, BPF_MAP_TYPE_HASH);
  EXPECT_EQ(pol.max_entries, uint32_t{CPP_POLICY_MAX});
  EXPECT_TRUE(pol.map_flags & BPF_F_NO_PREALLOC);
  EXPECT_EQ(pol.key_size, sizeof(cpp_policy_key));
  EXPECT_EQ(pol.value_size, sizeof(cpp_policy_value));
  for (const char* name : {CPP_MAP_CT4, CPP_MAP_CT6}) {
    auto ct = map_info(pin_.path() + "/" + name);
    EXPECT_EQ(ct.type, BPF_MAP_TYPE_LRU_HASH) << name;
    EXPECT_EQ(ct.max_entries, uint32_t{CPP_CT_MAX}) << name;
    EXPECT_EQ(ct.value_size, sizeof(cpp_ct_value)) << name;
  }
  EXPECT_EQ(map_info(pin_.path() + "/" CPP_MAP_CT4).key_size, sizeof(cpp_ct_key4));
  EXPECT_EQ(map_info(pin_.path() + "/" CPP_MAP_CT6).key_size, sizeof(cpp_ct_key6));
  auto ev = map_info(pin_.path() + "/" CPP_MAP_EVENTS);
  EXPECT_EQ(ev.type, BPF_MAP_TYPE_RINGBUF);
  EXPECT_EQ(ev.max_entries, uint32_t{CPP_EVENTS_BYTES});
  // Entries survive a second ensure_maps and program loads.
  datapath::PolicyMap pm(pin_.path());
  pm.upsert(datapath::PolicyKey{7, CPP_DIR_EGRESS, 6, 300, 80}, datapath::PolicyEntry{});
  Loader(pin_.path()).ensure_maps();
  { auto p = datapath::load_lxc_object(pin_.path(), t_.node(), t_.pod_a(), 7); }
  EXPECT_TRUE(
      datapath::PolicyMap(pin_.path()).lookup(datapath::PolicyKey{7, CPP_DIR_EGRESS, 6, 300, 80}));
}

TEST_F(MapsTest, PolicyKeyLayout) {
  datapath::PolicyKey k{12, CPP_DIR_EGRESS, 17, 4242, 53};
  auto raw = datapath::policy_key(k);
  EXPECT_EQ(raw.ep_id, 12);
  EXPECT_EQ(raw.direction, CPP_DIR_EGRESS);
  EXPECT_EQ(raw.protocol, 17);
  EXPECT_EQ(raw.identity, 4242u);
  EXPECT_EQ(raw.dport, htons(53)) << "network order in the map";
  EXPECT_EQ(raw.pad, 0);
  EXPECT_EQ(datapath::policy_key_from(raw), k);
}

TEST_F(MapsTest, PolicyMapUpsertLookupRemoveDump) {
  using datapath::PolicyEntry;
  using datapath::PolicyKey;
  datapath::PolicyMap pm(pin_.path());
  PolicyKey k1{5, CPP_DIR_INGRESS, 6, 300, 80}, k2{5, CPP_DIR_EGRESS, 0, 0, 0},
      k3{6, CPP_DIR_INGRESS, 1, 0, 8};
  EXPECT_FALSE(pm.lookup(k1));
  pm.upsert(k1, PolicyEntry{false, 0, 11});
  pm.upsert(k2, PolicyEntry{true, 0, 12});
  pm.upsert(k3, PolicyEntry{false, 15001, 13});
  auto e = pm.lookup(k3);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->entry.proxy_port, 15001);
  EXPECT_EQ(e->entry.cookie, 13u);
  EXPECT_TRUE(pm.lookup(k2)->entry.deny);
  EXPECT_EQ(pm.dump().size(), 3u);
  auto ep5 = pm.dump(5);
  ASSERT_EQ(ep5.size(), 2u);
  EXPECT_EQ(ep5[0].key, k1) << "sorted: ingress before egress";
  // The map holds ports in network byte order; the typed key converts.
  PolicyKey k4{6, CPP_DIR_EGRESS, 6, 0, 443};
  cpp_policy_key rk = datapath::policy_key(k4);
  EXPECT_EQ(rk.dport, htons(443));
  EXPECT_EQ(rk.pad, 0);
  EXPECT_EQ(datapath::policy_key_from(rk), k4);
  pm.upsert(k4, PolicyEntry{false, 0, 99});
  EXPECT_EQ(pm.lookup(k4)->entry.cookie, 99u);
  EXPECT_EQ(pm.lookup(k4)->packets, 0u);
  EXPECT_TRUE(pm.remove(k4));
  EXPECT_FALSE(pm.remove(k4));

  EXPECT_EQ(pm.remove_all_for_endpoint(5), 2u);
  EXPECT_EQ(pm.remove_all_for_endpoint(5), 0u);
  ASSERT_EQ(pm.dump().size(), 1u);
  EXPECT_EQ(pm.dump()[0].key, k3);
}

TEST_F(MapsTest, PolicyMapDumpsLargeMapsCompletely) {
  // Several batches of the batched iteration.
  datapath::PolicyMap pm(pin_.path());
  for (uint32_t i = 1; i <= 5000; ++i)
    pm.upsert(datapath::PolicyKey{static_cast<uint16_t>(1 + i % 3), CPP_DIR_INGRESS, 6, i, 80},
              datapath::PolicyEntry{});
  EXPECT_EQ(pm.dump().size(), 5000u);
  EXPECT_EQ(pm.dump(2).size() + pm.dump(1).size() + pm.dump(3).size(), 5000u);
  EXPECT_EQ(pm.remove_all_for_endpoint(2), 1667u);  // i % 3 == 1
  EXPECT_EQ(pm.dump().size(), 3333u);
}

TEST_F(MapsTest, PolicySyncAppliesOnlyTheDifference) {
  using datapath::PolicyEntry;
  using datapath::PolicyKey;
  datapath::PolicyMap pm(pin_.path());
  PolicyKey keep{5, CPP_DIR_INGRESS, 6, 300, 80}, change{5, CPP_DIR_INGRESS, 17, 300, 53},
      stale{5, CPP_DIR_EGRESS, 0, 2, 0}, stale_deny{5, CPP_DIR_EGRESS, 6, 0, 22},
      fresh{5, CPP_DIR_EGRESS, 6, 301, 443}, other{6, CPP_DIR_INGRESS, 0, 0, 0};
  pm.upsert(keep, PolicyEntry{false, 0, 1});
  pm.upsert(change, PolicyEntry{false, 0, 2});
  pm.upsert(stale, PolicyEntry{false, 0, 3});
  pm.upsert(stale_deny, PolicyEntry{true, 0, 4});
  pm.upsert(other, PolicyEntry{false, 0, 5});
  // Counters as the datapath would have left them.
  {
    datapath::PinnedMap raw(pin_.path() + "/" CPP_MAP_POLICY, sizeof(cpp_policy_key),
                            sizeof(cpp_policy_value));
    for (const auto& k : {keep, change}) {
      auto rk = datapath::policy_key(k);
      cpp_policy_value v{};
      ASSERT_TRUE(raw.lookup(&rk, &v));
      v.packets = 7;
      v.bytes = 700;
      raw.update(&rk, &v);
    }
  }
  std::map<PolicyKey, PolicyEntry> desired = {
      {keep, PolicyEntry{false, 0, 1}},
      {change, PolicyEntry{true, 0, 2}},  // allow -> deny
      {fresh, PolicyEntry{false, 0, 6}},
  };
  auto st = pm.sync(5, desired);
  EXPECT_EQ(st.unchanged, 1u);
  EXPECT_EQ(st.updated, 1u);
  EXPECT_EQ(st.added, 1u);
  EXPECT_EQ(st.removed, 2u);
  auto got = pm.dump(5);
  ASSERT_EQ(got.size(), 3u);
  for (const auto& e : got) {
    ASSERT_TRUE(desired.count(e.key));
    EXPECT_EQ(e.entry, desired.at(e.key));
  }
  EXPECT_EQ(pm.lookup(keep)->packets, 7u) << "untouched entries keep their counters";
  EXPECT_EQ(pm.lookup(change)->bytes, 700u) << "changed entries keep their counters";
  EXPECT_TRUE(pm.lookup(other)) << "other endpoints are not touched";
  // Idempotent.
  st = pm.sync(5, desired);
  EXPECT_EQ(st.unchanged, 3u);
  EXPECT_EQ(st.added + st.updated + st.removed, 0u);
  // Empty desired state removes the endpoint's entries only.
  EXPECT_EQ(pm.sync(5, {}).removed, 3u);
  EXPECT_EQ(pm.dump().size(), 1u);
  EXPECT_THROW(pm.sync(5, {{other, PolicyEntry{}}}), std::invalid_argument);
}

TEST_F(MapsTest, ConntrackDumpCountFlush) {
  datapath::ConntrackMaps ct(pin_.path());
  EXPECT_EQ(ct.count(), 0u);
  datapath::PinnedMap ct4(pin_.path() + "/" CPP_MAP_CT4, sizeof(cpp_ct_key4), sizeof(cpp_ct_value));
  datapath::PinnedMap ct6(pin_.path() + "/" CPP_MAP_CT6, sizeof(cpp_ct_key6), sizeof(cpp_ct_value));
  uint64_t now = datapath::monotonic_now_ns();
  auto put4 = [&](uint16_t sport, uint16_t ep, uint64_t expires) {
    cpp_ct_key4 k{};
    std::memcpy(&k.saddr, t_.a4.bytes.data(), 4);
    std::memcpy(&k.daddr, t_.b4.bytes.data(), 4);
    k.sport = htons(sport);
    k.dport = htons(80);
    k.nexthdr = 6;
    k.dir = CPP_CT_EGRESS;
    cpp_ct_value v{};
    v.expires_ns = expires;
    v.ep_id = ep;
    v.flags = CPP_CT_F_SYN_SEEN | CPP_CT_F_ESTABLISHED;
    v.src_identity = 12345;
    v.packets = 3;
    v.bytes = 180;
    ct4.update(&k, &v);
  };
  put4(1000, 101, now + 60'000'000'000ull);
  put4(1001, 101, now - 1);  // expired
  put4(1002, 102, now + 60'000'000'000ull);
  cpp_ct_key6 k6{};
  std::memcpy(k6.saddr, t_.world6.bytes.data(), 16);
  std::memcpy(k6.daddr, t_.a6.bytes.data(), 16);
  k6.sport = htons(5555);
  k6.dport = htons(443);
  k6.nexthdr = 6;
  k6.dir = CPP_CT_INGRESS;
  cpp_ct_value v6{};
  v6.expires_ns = now + 10'000'000'000ull;
  v6.ep_id = 101;
  ct6.update(&k6, &v6);

  EXPECT_EQ(ct.count(), 4u);
  auto all = ct.dump();
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0].sport, 1000);
  EXPECT_EQ(all[0].saddr, t_.a4);
  EXPECT_EQ(all[0].dport, 80);
  EXPECT_EQ(all[3].saddr, t_.world6) << "IPv6 after IPv4";
  EXPECT_EQ(all[3].dir, CPP_CT_INGRESS);
  EXPECT_EQ(ct.dump(false).size(), 3u) << "without the expired one";

  auto j = datapath::ct_to_json(all, now);
  EXPECT_EQ(j[0]["proto"], "TCP");
  EXPECT_EQ(j[0]["direction"], "OUT");
  EXPECT_EQ(j[0]["source"], "10.233.64.10:1000");
  EXPECT_EQ(j[0]["destination"], "10.233.64.20:80");
  EXPECT_EQ(j[0]["expires_in_s"], 60);
  EXPECT_EQ(j[0]["flags"], nlohmann::json({"SynSeen", "Established"}));
  EXPECT_EQ(j[0]["source_security_id"], 12345);
  EXPECT_EQ(j[0]["packets"], 3);
  EXPECT_EQ(j[3]["direction"], "IN");
  EXPECT_EQ(j[3]["source"], "[2001:db8::7]:5555");
  EXPECT_EQ(datapath::ct_entry_to_text(all[0], now),
            "TCP OUT 10.233.64.10:1000 -> 10.233.64.20:80 expires=60 Packets=3 Bytes=180 "
            "Flags=[ SynSeen Established ] SourceSecurityID=12345 EndpointID=101");

  EXPECT_EQ(ct.flush_endpoint(101), 3u);
  EXPECT_EQ(ct.count(), 1u);
  EXPECT_EQ(ct.dump()[0].ep_id, 102);
}

TEST_F(MapsTest, PolicyJsonHasUpstreamColumns) {
  using datapath::PolicyEntry;
  using datapath::PolicyKey;
  datapath::PolicyMap pm(pin_.path());
  pm.upsert(PolicyKey{5, CPP_DIR_INGRESS, 6, 300, 80}, PolicyEntry{false, 0, 1});
  pm.upsert(PolicyKey{5, CPP_DIR_EGRESS, 0, 0, 0}, PolicyEntry{true, 0, 2});
  pm.upsert(PolicyKey{5, CPP_DIR_INGRESS, 17, CPP_ID_HOST, 0}, PolicyEntry{false, 15001, 3});
  pm.upsert(PolicyKey{5, CPP_DIR_INGRESS, 1, 0, 8}, PolicyEntry{false, 0, 4});
  auto j = datapath::policy_entries_to_json(pm.dump(5), [](uint32_t id) {
    return std::vector<std::string>{"k8s:app=id" + std::to_string(id)};
  });
  ASSERT_EQ(j.size(), 4u);
  // Sorted: ingress (ICMP, TCP, UDP), then egress.
  EXPECT_EQ(j[0]["port_proto"], "8/ICMP");
  EXPECT_EQ(j[0]["labels"], nlohmann::json({"reserved:unknown"}));
  EXPECT_EQ(j[1]["policy"], "Allow");
  EXPECT_EQ(j[1]["deny"], false);
  EXPECT_EQ(j[1]["direction"], "Ingress");
  EXPECT_EQ(j[1]["labels"], nlohmann::json({"k8s:app=id300"}));
  EXPECT_EQ(j[1]["identity"], 300);
  EXPECT_EQ(j[1]["port_proto"], "80/TCP");
  EXPECT_EQ(j[1]["proxy_port"], "NONE");
  EXPECT_EQ(j[1]["bytes"], 0);
  EXPECT_EQ(j[1]["packets"], 0);
  EXPECT_EQ(j[1]["prefix"], 16);
  EXPECT_EQ(j[2]["labels"], nlohmann::json({"reserved:host"}));
  EXPECT_EQ(j[2]["port_proto"], "UDP");
  EXPECT_EQ(j[2]["proxy_port"], 15001);
  EXPECT_EQ(j[2]["prefix"], 0);
  EXPECT_EQ(j[3]["policy"], "Deny");
  EXPECT_EQ(j[3]["direction"], "Egress");
  EXPECT_EQ(j[3]["port_proto"], "ANY");
  EXPECT_EQ(j[3]["cookie"], 2);
}

TEST_F(MapsTest, EventDecode) {
  cpp_event raw{};
  raw.type = CPP_EVENT_DROP;
  raw.verdict = CPP_VERDICT_DENIED;
  raw.reason = CPP_DROP_POLICY_DENY;
  raw.direction = CPP_DIR_EGRESS;
  raw.ep_id = 101;
  raw.family = CPP_FAMILY_IPV6;
  raw.protocol = 6;
  raw.src_identity = 12345;
  raw.dst_identity = 2;
  raw.cookie = 9;
  raw.sport = htons(40000);
  raw.dport = htons(443);
  std::memcpy(raw.saddr.ip6, t_.a6.bytes.data(), 16);
  std::memcpy(raw.daddr.ip6, t_.world6.bytes.data(), 16);
  auto e = datapath::Event::decode(raw);
  EXPECT_EQ(e.saddr, t_.a6);
  EXPECT_EQ(e.dport, 443);
  EXPECT_EQ(e.daddr, t_.world6);
  EXPECT_EQ(e.sport, 40000);
  EXPECT_EQ(e.type, CPP_EVENT_DROP);
  EXPECT_EQ(e.reason, CPP_DROP_POLICY_DENY);
  EXPECT_EQ(e.direction, CPP_DIR_EGRESS);
  EXPECT_EQ(e.ep_id, 101);
  EXPECT_EQ(e.src_identity, 12345u);
  EXPECT_EQ(e.cookie, 9u);
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
