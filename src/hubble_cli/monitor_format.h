#pragma once
// `cilium-dbg monitor`'s one-line texts for flows, in the shape of
// upstream's monitor output (drop / trace / policy verdict notifications):
//   xx drop (Policy denied) flow 0x0 to endpoint 1234, ifindex 5, file bpf_lxc.c:0, , identity 256->258: 10.0.0.1:41234 -> 10.0.0.2:8080 tcp SYN
//   -> endpoint 1234 flow 0x0 , identity 256->258 state new ifindex lxc123 orig-ip 10.0.0.1: 10.0.0.1:41234 -> 10.0.0.2:8080 tcp SYN
//   Policy verdict log: flow 0x0 local EP ID 1234, remote ID 256, proto 6, ingress, action allow, match L3-L4, 10.0.0.1:41234 -> 10.0.0.2:8080 tcp SYN
//   [pre-xlate-fwd] cgroup_id: 4711 sock_cookie: 8192, dst [10.96.0.10]:80 tcp
// Flows carry no packet hash or BPF source location: "flow 0x0" and
// "file bpf_lxc.c:0" keep the upstream shape for tools that split on it.
#include <cstdint>
#include <string>

#include "flow/flow.pb.h"

namespace cpp::hubble_cli {

// "10.0.0.1:41234 -> 10.0.0.2:8080 tcp SYN", "10.0.0.1 -> 10.0.0.2 icmp".
std::string connection_summary(const flow::Flow& f);

// The monitor line for a drop, trace, policy-verdict or trace-sock flow; "" otherwise.
std::string monitor_line(const flow::Flow& f);

// True when the flow starts or ends at local endpoint `id` (--related-to).
bool related_to(const flow::Flow& f, uint32_t id);

}  // namespace cpp::hubble_cli
