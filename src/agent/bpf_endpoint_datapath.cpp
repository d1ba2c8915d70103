#include "agent/bpf_endpoint_datapath.h"

#include <cstring>
#include <set>
#include <stdexcept>

namespace cpp::agent {
namespace {

std::vector<IpAddr> addresses(const endpoint::Endpoint& ep) {
  std::vector<IpAddr> out;
  if (ep.ipv4) out.push_back(*ep.ipv4);
  if (ep.ipv6) out.push_back(*ep.ipv6);
  return out;
}

}  // namespace

void BpfEndpointDatapath::attach(const endpoint::Endpoint& ep) {
  auto link = nl_.get_link(ep.host_ifname);
  if (!link) throw std::runtime_error("device " + ep.host_ifname + " does not exist");
  if (link->ifindex != ep.host_ifindex)
    throw std::runtime_error("device " + ep.host_ifname + " has ifindex " + std::to_string(link->ifindex) +
                             ", endpoint says " + std::to_string(ep.host_ifindex));
  // Order: policy entries, then the endpoint's map entry carrying its
  // enforcement flags, then its program. The program reads those flags from
  // the entry, so its first packet is already policed.
  uint32_t policy_flags = policy_.bind(ep);
  cpp_endpoint_info info{};
  info.ifindex = static_cast<__u32>(ep.host_ifindex);
  info.lxc_id = ep.id;
  info.flags = policy_flags;
  std::memcpy(info.mac, ep.mac.data(), 6);
  std::memcpy(info.node_mac, ep.host_mac.data(), 6);
  info.sec_id = ep.identity;
  for (const auto& a : addresses(ep)) map_.upsert(a, info);
  datapath::EndpointConsts consts;
  consts.id = ep.id;
  consts.lxc_mac = ep.host_mac;
  consts.ipv4 = ep.ipv4;
  consts.ipv6 = ep.ipv6;
  consts.sec_label = ep.identity;
  loader_.load_lxc_program(node_, consts, ep.host_ifindex);
  policy_.attached(ep);
}

void BpfEndpointDatapath::detach(const endpoint::Endpoint& ep) {
  for (const auto& a : addresses(ep)) {
    auto cur = map_.lookup(a);
    // Only remove the entry if it is still ours (the address may have been
    // handed to a newer endpoint already).
    if (cur && cur->lxc_id == ep.id) map_.remove(a);
  }
  auto link = nl_.get_link(ep.host_ifname);
  if (link && link->ifindex == ep.host_ifindex) datapath::Loader::detach_lxc(ep.host_ifindex);
  policy_.unbind(ep);
}

bool BpfEndpointDatapath::link_exists(const endpoint::Endpoint& ep) {
  auto link = nl_.get_link(ep.host_ifname);
  return link && link->ifindex == ep.host_ifindex;
}

void BpfEndpointDatapath::prune(const std::vector<endpoint::Endpoint>& live) {
  std::set<IpAddr> keep;
  for (const auto& ep : live)
    for (const auto& a : addresses(ep)) keep.insert(a);
  for (const auto& [addr, info] : map_.dump()) {
    if (info.flags & CPP_EP_F_HOST) continue;
    if (!keep.count(addr)) map_.remove(addr);
  }
}

}  // namespace cpp::agent
