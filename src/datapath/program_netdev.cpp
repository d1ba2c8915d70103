// The only translation unit that includes the bpf_netdev skeleton (it
// embeds the whole object).
#include "datapath/program_netdev.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "bpf_netdev.skel.h"
#include "datapath/libbpf_log.h"
#include "datapath/program_lb.h"

namespace cpp::datapath {
namespace {

std::optional<IpAddr> checked(const std::optional<IpAddr>& a, bool v6, const char* what) {
  if (a && a->v6 != v6)
    throw std::invalid_argument(std::string(what) + " is not an IPv" + (v6 ? "6" : "4") +
                                " address: " + a->str());
  return a;
}

void configure(bpf_netdev* s, const NodeConsts& node, const NatConsts& nat) {
  auto* ro = s->rodata;
  ro->ENABLE_IPV4 = node.enable_ipv4;
  ro->ENABLE_IPV6 = node.enable_ipv6;
  ro->MONITOR_AGGREGATION = node.monitor_aggregation;
  if (auto a = checked(node.router_ipv4, false, "router IPv4"))
    std::memcpy(&ro->ROUTER_IPV4, a->bytes.data(), 4);
  if (auto a = checked(node.router_ipv6, true, "router IPv6"))
    std::memcpy(ro->ROUTER_IPV6, a->bytes.data(), 16);
  if (auto a = checked(nat.ipv4, false, "masquerade IPv4")) std::memcpy(&ro->NAT_IPV4, a->bytes.data(), 4);
  if (auto a = checked(nat.ipv6, true, "masquerade IPv6")) std::memcpy(ro->NAT_IPV6, a->bytes.data(), 16);
  if (nat.native_cidr4) {
    if (nat.native_cidr4->addr.v6)
      throw std::invalid_argument("ipv4-native-routing-cidr is not IPv4: " + nat.native_cidr4->str());
    std::memcpy(&ro->NATIVE_CIDR4, nat.native_cidr4->addr.bytes.data(), 4);
    ro->NATIVE_CIDR4_LEN = static_cast<uint8_t>(nat.native_cidr4->len);
  }
  if (nat.native_cidr6) {
    if (!nat.native_cidr6->addr.v6)
      throw std::invalid_argument("ipv6-native-routing-cidr is not IPv6: " + nat.native_cidr6->str());
    std::memcpy(ro->NATIVE_CIDR6, nat.native_cidr6->addr.bytes.data(), 16);
    ro->NATIVE_CIDR6_LEN = static_cast<uint8_t>(nat.native_cidr6->len);
  }
  if (nat.port_min == 0 || nat.port_min > nat.port_max)
    throw std::invalid_argument("masquerade port range " + std::to_string(nat.port_min) + "-" +
                                std::to_string(nat.port_max) + " is empty");
  ro->NAT_PORT_MIN = nat.port_min;
  ro->NAT_PORT_MAX = nat.port_max;
  ro->MASQUERADE_IPV4 = nat.masquerade_ipv4;
  ro->MASQUERADE_IPV6 = nat.masquerade_ipv6;
  // NodePort requests for a backend on another node are tunnelled there.
  ro->ENCAP_IFINDEX = static_cast<uint32_t>(node.encap_ifindex);
  configure_lb(s, node.lb);
}

}  // namespace

NetdevPrograms load_netdev_object(const std::string& pin_dir, const NodeConsts& node,
                                  const NatConsts& nat) {
  route_libbpf_logs();
  bpf_object_open_opts opts{};
  opts.sz = sizeof(opts);
  opts.pin_root_path = pin_dir.c_str();  // maps reused from / pinned at <pin_dir>/<name>
  bpf_netdev* skel = bpf_netdev::open(&opts);
  if (!skel) throw std::runtime_error(std::string("bpf_netdev: open: ") + std::strerror(errno));
  try {
    configure(skel, node, nat);
  } catch (...) {
    bpf_netdev::destroy(skel);
    throw;
  }
  if (int err = bpf_netdev::load(skel)) {
    bpf_netdev::destroy(skel);
    throw std::runtime_error("bpf_netdev: load (pin dir " + pin_dir + "): " + std::strerror(-err));
  }
  bpf_program* to = skel->progs.cil_to_netdev;
  bpf_program* from = skel->progs.cil_from_netdev;
  return NetdevPrograms{
      LoadedProgram(bpf_program__name(to), bpf_program__fd(to), [skel] { bpf_netdev::destroy(skel); }),
      bpf_program__fd(from), bpf_program__name(from)};
}

}  // namespace cpp::datapath
