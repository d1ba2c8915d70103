#pragma once
// The packet-test node of fixture.h with kube-proxy replacement switched
// on: both pods' bpf_lxc and bpf_host loaded straight from their skeletons
// with ENABLE_LB (the agent's loader sets the same constants); service
// maps written with bpf_lb_maps.h.
//
// Include from one translation unit per test binary: the skeletons embed
// their objects.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <ctime>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "bpf_host.skel.h"
#include "bpf_lxc.skel.h"
#include "bpf_lb_maps.h"
#include "datapath/event_reader.h"
#include "fixture.h"

namespace cpp::bpftest {

inline constexpr uint8_t kTcp = 6, kUdp = 17;
inline constexpr uint16_t kEpA = 101, kEpB = 102;

// ---- loading -------------------------------------------------------------

template <typename Ro>
void set_node_rodata(Ro* ro, const Topo& t, bool lb = true) {
  ro->ENABLE_IPV4 = 1;
  ro->ENABLE_IPV6 = 1;
  std::memcpy(&ro->ROUTER_IPV4, t.router4.bytes.data(), 4);
  std::memcpy(ro->ROUTER_IPV6, t.router6.bytes.data(), 16);
  ro->ENABLE_LB = lb;
}

inline datapath::LoadedProgram load_lxc_lb(const std::string& pin_dir, const Topo& t,
                                           const datapath::EndpointConsts& ep, int ifindex,
                                           bool reject, bool lb = true) {
  auto opts = pin_opts(pin_dir);
  bpf_lxc* s = bpf_lxc::open(&opts);
  if (!s) throw std::runtime_error("bpf_lxc: open failed");
  auto* ro = s->rodata;
  set_node_rodata(ro, t, lb);
  ro->LB_NO_BACKEND_REJECT = reject;
  ro->LXC_ID = ep.id;
  ro->LXC_IFINDEX = static_cast<uint32_t>(ifindex);
  std::memcpy(ro->LXC_MAC, ep.lxc_mac.data(), 6);
  std::memcpy(&ro->LXC_IPV4, ep.ipv4->bytes.data(), 4);
  std::memcpy(ro->LXC_IPV6, ep.ipv6->bytes.data(), 16);
  ro->SECLABEL = ep.sec_label;
  if (int err = bpf_lxc::load(s)) {
    bpf_lxc::destroy(s);
    throw std::runtime_error("bpf_lxc: load failed: " + std::string(std::strerror(-err)));
  }
  return datapath::LoadedProgram("cil_from_container", bpf_program__fd(s->progs.cil_from_container),
                                 [s] { bpf_lxc::destroy(s); });
}

inline datapath::LoadedProgram load_host_lb(const std::string& pin_dir, const Topo& t) {
  auto opts = pin_opts(pin_dir);
  bpf_host* s = bpf_host::open(&opts);
  if (!s) throw std::runtime_error("bpf_host: open failed");
  set_node_rodata(s->rodata, t);
  if (int err = bpf_host::load(s)) {
    bpf_host::destroy(s);
    throw std::runtime_error("bpf_host: load failed: " + std::string(std::strerror(-err)));
  }
  return datapath::LoadedProgram("cil_from_host", bpf_program__fd(s->progs.cil_from_host),
                                 [s] { bpf_host::destroy(s); });
}

// ---- fixture -----------------------------------------------------------------

class LbFixture : public DatapathFixture {
 protected:
  void SetUp() override {
    DatapathFixture::SetUp();
    for (const auto& a : {t_.a4, t_.a6}) eps_->upsert(a, t_.info_a());
    lb_ = std::make_unique<LbMaps>(pin_.path());
    events_ = std::make_unique<datapath::EventReader>(
        pin_.path(), [this](const datapath::Event& e) { got_.push_back(e); });
    load(true);
  }
  void TearDown() override { events_.reset(); }

  // lb false: kube-proxy replacement off (for comparisons).
  void load(bool reject, bool lb = true) {
    lxc_a_.reset();
    lxc_b_.reset();
    host_.reset();
    lxc_a_.emplace(load_lxc_lb(pin_.path(), t_, t_.pod_a(), t_.a_ifindex, reject, lb));
    lxc_b_.emplace(load_lxc_lb(pin_.path(), t_, t_.pod_b(), t_.b_ifindex, reject, lb));
    host_.emplace(load_host_lb(pin_.path(), t_));
  }

  std::vector<datapath::Event> events() {
    events_->consume();
    auto out = std::move(got_);
    got_.clear();
    return out;
  }

  Bytes frame(const MacAddr& dmac, const MacAddr& smac, const IpAddr& s, const IpAddr& d,
              uint8_t proto, const Bytes& l4) {
    return s.v6 ? ipv6_packet(dmac, smac, s, d, proto, l4) : ipv4_packet(dmac, smac, s, d, proto, l4);
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

  RunResult run_a(const Bytes& p) { return test_run(lxc_a_->fd(), p); }
  RunResult run_b(const Bytes& p) { return test_run(lxc_b_->fd(), p); }
  RunResult run_host(const Bytes& p) { return test_run(host_->fd(), p); }

  std::unique_ptr<LbMaps> lb_;
  std::unique_ptr<datapath::EventReader> events_;
  std::vector<datapath::Event> got_;
  std::optional<datapath::LoadedProgram> lxc_a_, lxc_b_, host_;
};

}  // namespace cpp::bpftest
