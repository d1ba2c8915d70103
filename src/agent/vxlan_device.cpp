#include "agent/vxlan_device.h"

#include <stdexcept>
#include <string>

#include "common/log.h"
#include "netlink/sysctl.h"

namespace cpp::agent {

LinkInfo ensure_vxlan_device(Netlink& nl) {
  if (auto existing = nl.get_link(kVxlanDevice)) {
    auto s = nl.vxlan_settings(kVxlanDevice);
    if (!s)
      throw std::runtime_error(std::string(kVxlanDevice) + " exists but is a " +
                               (existing->kind.empty() ? "non-VXLAN" : existing->kind) + " device, not vxlan");
    if (!s->external || s->learning || s->dst_port != kVxlanPort) {
      spdlog::info("{}: replacing (external={}, learning={}, dstport={})", kVxlanDevice, s->external, s->learning,
                   s->dst_port);
      nl.remove_link(kVxlanDevice);
    }
  }
  if (!nl.get_link(kVxlanDevice)) nl.create_vxlan_external(kVxlanDevice, kVxlanPort);
  // Decapsulated packets for the node come in here with remote sources the
  // node routes via cilium_host: no reverse-path filtering.
  write_sysctl(std::string("net/ipv4/conf/") + kVxlanDevice + "/rp_filter", "0");
  nl.set_up(kVxlanDevice);
  return nl.require_link(kVxlanDevice);
}

}  // namespace cpp::agent
