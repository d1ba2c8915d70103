#pragma once
// What a node's native XDP (bpf-lb-acceleration) needs from the lab's veths
// (no ethtool binary on these machines, so the kernel interfaces directly):
//   - frames a node's XDP program sends back out (XDP_TX) are taken by the
//     veth peer only when that peer runs an XDP program itself (GRO alone
//     does not do it here): the underlay side gets a program that passes
//     everything;
//   - a client in front of an XDP program must send complete checksums:
//     XDP sees packets before the stack would fill in a CHECKSUM_PARTIAL one.
#include <string>

namespace cpp::lab {

// Both throw std::runtime_error naming the device and namespace.
void attach_xdp_pass(const std::string& netns, const std::string& dev);
void set_tx_checksum(const std::string& netns, const std::string& dev, bool on);

}  // namespace cpp::lab
