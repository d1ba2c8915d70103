#pragma once
// A node with NodePort services for the packet tests of bpf_netdev,
// bpf_overlay and bpf_xdp: the node (192.0.2.1 / fd00:aa::1 on its native
// device) with pod B as the local backend, remote pod R (behind node
// 192.0.2.2, tunnel routing) as the remote backend, and a world client.
// The programs are loaded straight from their skeletons with kube-proxy
// replacement on, so the tests set every load-time constant themselves.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>

#include <cstring>
#include <optional>
#include <vector>

#include "bpf_netdev.skel.h"
#include "bpf_overlay.skel.h"
#include "bpf_xdp.skel.h"
#include "datapath/ipcache_map.h"
#include "datapath/pinned_map.h"
#include "fixture.h"

namespace cpp::bpftest {

inline constexpr uint8_t kIcmp = 1, kTcp = 6, kUdp = 17, kIcmp6 = 58;
inline constexpr size_t kEth = 14;
inline constexpr int kEncapIfindex = 77;  // cilium_vxlan; test runs never transmit
inline constexpr uint16_t kPortLocal = 30080, kPortRemote = 30081, kPortEmpty = 30082;
inline constexpr uint16_t kBackendPort = 8080;

struct NodeportAddrs {
  IpAddr node4 = ip("192.0.2.1"), node6 = ip("fd00:aa::1");
  IpAddr node2 = ip("192.0.2.2");  // the remote backend's node
  IpAddr r4 = ip("10.233.65.7"), r6 = ip("fd00:cafe:1::7");
  IpAddr client4 = ip("203.0.113.7"), client6 = ip("2001:db8::7");
  MacAddr dev_mac{0x02, 0xee, 0, 0, 0, 0x01};  // the native device
  MacAddr gw_mac{0x02, 0xee, 0, 0, 0, 0x02};   // the underlay's router
};

// Addresses, ports and checksum validity of the IP packet at off.
struct Seen {
  IpAddr src, dst;
  uint8_t proto = 0;
  uint16_t sport = 0, dport = 0;
  bool csum_ok = false;
};

inline Seen parse_at(const Bytes& f, size_t off) {
  Seen s;
  bool v6 = (f.at(off) >> 4) == 6;
  size_t l4 = v6 ? off + 40 : off + 20;
  s.proto = v6 ? f[off + 6] : f[off + 9];
  s.src = v6 ? ip6_at(f, off + 8) : ip4_at(f, off + 12);
  s.dst = v6 ? ip6_at(f, off + 24) : ip4_at(f, off + 16);
  size_t end = v6 ? l4 + be16(f, off + 4) : off + be16(f, off + 2);
  if (end > f.size()) return s;
  const uint8_t* p = f.data() + l4;
  size_t len = end - l4;
  if (s.proto == kTcp || s.proto == kUdp) {
    s.sport = be16(f, l4);
    s.dport = be16(f, l4 + 2);
  }
  bool l3_ok = v6 || ipv4_header_csum(f.data() + off, 20) == 0;
  bool l4_ok;
  if (s.proto == kIcmp)
    l4_ok = csum_finish(csum_add(0, p, len)) == 0;
  else if (v6)
    l4_ok = ipv6_l4_csum(s.src, s.dst, s.proto, p, len) == 0;
  else
    l4_ok = ipv4_l4_csum(s.src, s.dst, s.proto, p, len) == 0;
  s.csum_ok = l3_ok && l4_ok;
  return s;
}

template <typename Skel>
struct SkelDeleter {
  void operator()(Skel* s) const { Skel::destroy(s); }
};
template <typename Skel>
using SkelPtr = std::unique_ptr<Skel, SkelDeleter<Skel>>;

class NodeportFixture : public DatapathFixture, public ::testing::WithParamInterface<bool> {
 protected:
  void SetUp() override {
    DatapathFixture::SetUp();
    ipc_.emplace(pin_.path());
    svc_.emplace(pin_.path() + "/" CPP_MAP_LB_SVC, sizeof(cpp_lb_key), sizeof(cpp_lb_svc_value));
    be_.emplace(pin_.path() + "/" CPP_MAP_LB_BACKENDS, sizeof(uint32_t), sizeof(cpp_lb_backend));
    for (const auto& r : {a_.r4, a_.r6}) {
      cpp_ipcache_value v{};
      v.sec_identity = 7000;
      std::memcpy(&v.tunnel_endpoint, a_.node2.bytes.data(), 4);
      ipc_->upsert(IpPrefix{r, r.bits()}, v);
    }
    // Backends 1/2: pod B (local), 3/4: pod R (remote), per family.
    add_backend(1, t_.b4, kTcp);
    add_backend(2, t_.b6, kTcp);
    add_backend(3, a_.r4, kTcp);
    add_backend(4, a_.r6, kTcp);
    add_backend(5, t_.b4, kUdp);
    add_backend(6, t_.b6, kUdp);
    add_backend(7, a_.r4, kUdp);
    add_backend(8, a_.r6, kUdp);
    for (bool v6 : {false, true}) {
      const IpAddr& n = v6 ? a_.node6 : a_.node4;
      uint32_t f = v6 ? 1 : 0;
      add_service(n, kPortLocal, kTcp, 10 + f, {1 + f});
      add_service(n, kPortRemote, kTcp, 20 + f, {3 + f});
      add_service(n, kPortEmpty, kTcp, 30 + f, {});
      add_service(n, kPortLocal, kUdp, 40 + f, {5 + f});
      add_service(n, kPortRemote, kUdp, 50 + f, {7 + f});
      add_service(n, kPortEmpty, kUdp, 60 + f, {});
    }
  }

  bool v6() const { return GetParam(); }
  const IpAddr& node() const { return v6() ? a_.node6 : a_.node4; }
  const IpAddr& client() const { return v6() ? a_.client6 : a_.client4; }
  const IpAddr& local_be() const { return v6() ? t_.b6 : t_.b4; }
  const IpAddr& remote_be() const { return v6() ? a_.r6 : a_.r4; }

  void add_backend(uint32_t id, const IpAddr& a, uint8_t proto) {
    cpp_lb_backend b{};
    std::memcpy(&b.addr, a.bytes.data(), a.v6 ? 16 : 4);
    b.port = htons(kBackendPort);
    b.proto = proto;
    b.family = a.v6 ? CPP_FAMILY_IPV6 : CPP_FAMILY_IPV4;
    be_->update(&id, &b);
  }
  static cpp_lb_key lb_key(const IpAddr& fe, uint16_t port, uint8_t proto, uint16_t slot) {
    cpp_lb_key k{};
    std::memcpy(&k.addr, fe.bytes.data(), fe.v6 ? 16 : 4);
    k.dport = htons(port);
    k.slot = slot;
    k.proto = proto;
    k.scope = CPP_LB_SCOPE_EXT;
    k.family = fe.v6 ? CPP_FAMILY_IPV6 : CPP_FAMILY_IPV4;
    return k;
  }
  void add_service(const IpAddr& fe, uint16_t port, uint8_t proto, uint16_t svc_id,
                   const std::vector<uint32_t>& backends) {
    for (size_t i = 0; i < backends.size(); ++i) {
      auto k = lb_key(fe, port, proto, static_cast<uint16_t>(i + 1));
      cpp_lb_svc_value v{};
      v.backend_id = backends[i];
      svc_->update(&k, &v);
    }
    auto k = lb_key(fe, port, proto, 0);
    cpp_lb_svc_value v{};
    v.count = static_cast<uint16_t>(backends.size());
    v.svc_id = svc_id;
    v.flags = CPP_LB_F_NODEPORT;
    svc_->update(&k, &v);
  }

  // The LB translation entry {s, d, sp, dp} of direction dir, if any.
  std::optional<cpp_lb_ct_value> lb_ct(const IpAddr& s, const IpAddr& d, uint16_t sp, uint16_t dp,
                                       uint8_t proto, uint8_t dir) {
    cpp_lb_ct_value v{};
    bool found;
    if (s.v6) {
      datapath::PinnedMap m(pin_.path() + "/" CPP_MAP_LB_CT6, sizeof(cpp_ct_key6), sizeof(v));
      cpp_ct_key6 k{};
      std::memcpy(k.saddr, s.bytes.data(), 16);
      std::memcpy(k.daddr, d.bytes.data(), 16);
      k.sport = htons(sp);
      k.dport = htons(dp);
      k.nexthdr = proto;
      k.dir = dir;
      found = m.lookup(&k, &v);
    } else {
      datapath::PinnedMap m(pin_.path() + "/" CPP_MAP_LB_CT4, sizeof(cpp_ct_key4), sizeof(v));
      cpp_ct_key4 k{};
      std::memcpy(&k.saddr, s.bytes.data(), 4);
      std::memcpy(&k.daddr, d.bytes.data(), 4);
      k.sport = htons(sp);
      k.dport = htons(dp);
      k.nexthdr = proto;
      k.dir = dir;
      found = m.lookup(&k, &v);
    }
    if (!found) return std::nullopt;
    return v;
  }

  // A REV entry {s, d, sp, dp} -> frontend fe:fport, as bpf_lxc writes one
  // for a pod's per-packet ClusterIP request.
  void put_lb_rev(const IpAddr& s, const IpAddr& d, uint16_t sp, uint16_t dp, uint8_t proto, const IpAddr& fe,
                  uint16_t fport) {
    cpp_lb_ct_value v{};
    v.expires_ns = ~0ull;
    std::memcpy(&v.addr, fe.bytes.data(), fe.v6 ? 16 : 4);
    v.port = htons(fport);
    v.svc_id = 99;
    if (s.v6) {
      datapath::PinnedMap m(pin_.path() + "/" CPP_MAP_LB_CT6, sizeof(cpp_ct_key6), sizeof(v));
      cpp_ct_key6 k{};
      std::memcpy(k.saddr, s.bytes.data(), 16);
      std::memcpy(k.daddr, d.bytes.data(), 16);
      k.sport = htons(sp);
      k.dport = htons(dp);
      k.nexthdr = proto;
      k.dir = CPP_LB_CT_REV;
      m.update(&k, &v);
    } else {
      datapath::PinnedMap m(pin_.path() + "/" CPP_MAP_LB_CT4, sizeof(cpp_ct_key4), sizeof(v));
      cpp_ct_key4 k{};
      std::memcpy(&k.saddr, s.bytes.data(), 4);
      std::memcpy(&k.daddr, d.bytes.data(), 4);
      k.sport = htons(sp);
      k.dport = htons(dp);
      k.nexthdr = proto;
      k.dir = CPP_LB_CT_REV;
      m.update(&k, &v);
    }
  }

  // Node, NAT and LB constants every object gets here.
  template <typename Skel>
  void configure(Skel* s, bool reject) {
    auto* ro = s->rodata;
    ro->ENABLE_IPV4 = 1;
    ro->ENABLE_IPV6 = 1;
    std::memcpy(&ro->ROUTER_IPV4, t_.router4.bytes.data(), 4);
    std::memcpy(ro->ROUTER_IPV6, t_.router6.bytes.data(), 16);
    std::memcpy(&ro->NAT_IPV4, a_.node4.bytes.data(), 4);
    std::memcpy(ro->NAT_IPV6, a_.node6.bytes.data(), 16);
    ro->ENCAP_IFINDEX = kEncapIfindex;
    ro->ENABLE_LB = 1;
    ro->LB_NO_BACKEND_REJECT = reject ? 1 : 0;
  }
  template <typename Skel>
  SkelPtr<Skel> load(bool reject = true) {
    bpf_object_open_opts opts{};
    opts.sz = sizeof(opts);
    opts.pin_root_path = pin_.path().c_str();
    SkelPtr<Skel> s(Skel::open(&opts));
    if (!s) throw std::runtime_error("skeleton open failed");
    configure(s.get(), reject);
    if (int err = Skel::load(s.get()))
      throw std::runtime_error("skeleton load failed: " + std::string(std::strerror(-err)));
    return s;
  }

  // Frames on the underlay: from the world's router to the node and back.
  Bytes in(const IpAddr& s, const IpAddr& d, uint8_t proto, const Bytes& l4) const {
    return s.v6 ? ipv6_packet(a_.dev_mac, a_.gw_mac, s, d, proto, l4)
                : ipv4_packet(a_.dev_mac, a_.gw_mac, s, d, proto, l4);
  }
  Bytes request(uint8_t proto, uint16_t sport, uint16_t fport, uint8_t tcp_flags = kTcpSyn) const {
    Bytes l4 = proto == kTcp ? tcp_segment(client(), node(), sport, fport, tcp_flags)
                             : udp_dgram(client(), node(), sport, fport, "request");
    return in(client(), node(), proto, l4);
  }

  NodeportAddrs a_;
  std::optional<datapath::IpcacheMap> ipc_;
  std::optional<datapath::PinnedMap> svc_, be_;
};

}  // namespace cpp::bpftest
