#pragma once
// The packet-test node of fixture.h with policy machinery: identities in
// the ipcache, both pods' programs and the host program loaded, typed
// access to the policy, conntrack and event maps, and frame builders that
// work for either family.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <vector>

#include "datapath/conntrack_map.h"
#include "datapath/event_reader.h"
#include "datapath/ipcache_map.h"
#include "datapath/policy_map.h"
#include "fixture.h"

namespace cpp::bpftest {

inline constexpr uint32_t kIdA = 12345;  // pod A's identity (Topo::pod_a().sec_label)
inline constexpr uint32_t kIdB = 2000;   // pod B's identity (Topo::pod_b().sec_label)
inline constexpr uint16_t kEpA = 101, kEpB = 102;
inline constexpr uint8_t kTcp = 6, kUdp = 17;

class PolicyFixture : public DatapathFixture {
 protected:
  void SetUp() override {
    DatapathFixture::SetUp();
    policy_ = std::make_unique<datapath::PolicyMap>(pin_.path());
    ipc_ = std::make_unique<datapath::IpcacheMap>(pin_.path());
    ct_ = std::make_unique<datapath::ConntrackMaps>(pin_.path());
    events_ = std::make_unique<datapath::EventReader>(
        pin_.path(), [this](const datapath::Event& e) { got_.push_back(e); });
    for (const auto& a : {t_.a4, t_.a6}) ipc_->upsert(host_prefix(a), ident(kIdA));
    for (const auto& a : {t_.b4, t_.b6}) ipc_->upsert(host_prefix(a), ident(kIdB));
    for (const auto& a : {t_.router4, t_.router6}) ipc_->upsert(host_prefix(a), ident(CPP_ID_HOST));
    set_flags_a(0);
    set_flags_b(0);
    lxc_a_.emplace(datapath::load_lxc_object(pin_.path(), t_.node(), t_.pod_a(), t_.a_ifindex));
    lxc_b_.emplace(datapath::load_lxc_object(pin_.path(), t_.node(), t_.pod_b(), t_.b_ifindex));
    host_.emplace(datapath::load_host_object(pin_.path(), t_.node()));
  }
  void TearDown() override {
    events_.reset();  // before the pins go
  }

  static IpPrefix host_prefix(const IpAddr& a) { return IpPrefix{a, a.bits()}; }
  static cpp_ipcache_value ident(uint32_t id) {
    cpp_ipcache_value v{};
    v.sec_identity = id;
    return v;
  }

  // Enforcement flags live in each pod's own cpp_lxc entries.
  void set_flags_a(uint32_t flags) {
    auto i = t_.info_a();
    i.flags = flags;
    i.sec_id = kIdA;
    for (const auto& a : {t_.a4, t_.a6}) eps_->upsert(a, i);
  }
  void set_flags_b(uint32_t flags) {
    auto i = t_.info_b();
    i.flags = flags;
    i.sec_id = kIdB;
    for (const auto& a : {t_.b4, t_.b6}) eps_->upsert(a, i);
  }

  // Policy entries.
  void allow(uint16_t ep, uint8_t dir, uint32_t id, uint8_t proto, uint16_t port,
             uint32_t cookie = 0) {
    policy_->upsert(datapath::PolicyKey{ep, dir, proto, id, port},
                    datapath::PolicyEntry{false, 0, cookie});
  }
  void deny(uint16_t ep, uint8_t dir, uint32_t id, uint8_t proto, uint16_t port,
            uint32_t cookie = 0) {
    policy_->upsert(datapath::PolicyKey{ep, dir, proto, id, port},
                    datapath::PolicyEntry{true, 0, cookie});
  }
  std::optional<datapath::PolicyMapEntry> entry(uint16_t ep, uint8_t dir, uint32_t id,
                                                uint8_t proto, uint16_t port) {
    return policy_->lookup(datapath::PolicyKey{ep, dir, proto, id, port});
  }

  // Everything the datapath reported since the last call.
  std::vector<datapath::Event> events() {
    events_->consume();
    auto out = std::move(got_);
    got_.clear();
    return out;
  }
  static std::vector<datapath::Event> of_type(const std::vector<datapath::Event>& evs,
                                              uint8_t type) {
    std::vector<datapath::Event> out;
    for (const auto& e : evs)
      if (e.type == type) out.push_back(e);
    return out;
  }

  // --- frames -------------------------------------------------------------
  // A frame as pod A / pod B sends it (to its router MAC), or as the node
  // sends it into cilium_host. The family follows the addresses.
  Bytes frame(const MacAddr& dmac, const MacAddr& smac, const IpAddr& s, const IpAddr& d,
              uint8_t proto, const Bytes& l4) {
    return s.v6 ? ipv6_packet(dmac, smac, s, d, proto, l4)
                : ipv4_packet(dmac, smac, s, d, proto, l4);
  }
  Bytes from_a(const IpAddr& s, const IpAddr& d, uint8_t proto, const Bytes& l4) {
    return frame(t_.a_lxc_mac, t_.a_mac, s, d, proto, l4);
  }
  Bytes from_b(const IpAddr& s, const IpAddr& d, uint8_t proto, const Bytes& l4) {
    return frame(t_.b_lxc_mac, t_.b_mac, s, d, proto, l4);
  }
  Bytes from_host(const IpAddr& s, const IpAddr& d, uint8_t proto, const Bytes& l4) {
    return frame(t_.host_mac, t_.host_mac, s, d, proto, l4);
  }
  static uint8_t icmp_proto(const IpAddr& a) { return a.v6 ? 58 : 1; }
  static Bytes echo(const IpAddr& s, const IpAddr& d, uint16_t id, bool reply = false) {
    return s.v6 ? icmp6_echo(s, d, id, 1, reply) : icmp4_echo(id, 1, reply);
  }
  static Bytes tcp(const IpAddr& s, const IpAddr& d, uint16_t sp, uint16_t dp, uint8_t flags) {
    return tcp_segment(s, d, sp, dp, flags);
  }
  static Bytes udp(const IpAddr& s, const IpAddr& d, uint16_t sp, uint16_t dp) {
    return udp_dgram(s, d, sp, dp, "data");
  }

  RunResult run_a(const Bytes& pkt) { return test_run(lxc_a_->fd(), pkt); }
  RunResult run_b(const Bytes& pkt) { return test_run(lxc_b_->fd(), pkt); }
  RunResult run_host(const Bytes& pkt) { return test_run(host_->fd(), pkt); }

  std::unique_ptr<datapath::PolicyMap> policy_;
  std::unique_ptr<datapath::IpcacheMap> ipc_;
  std::unique_ptr<datapath::ConntrackMaps> ct_;
  std::unique_ptr<datapath::EventReader> events_;
  std::vector<datapath::Event> got_;
  std::optional<datapath::LoadedProgram> lxc_a_, lxc_b_, host_;
};

}  // namespace cpp::bpftest
