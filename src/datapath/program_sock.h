#pragma once
// Loading (not attaching) of the two LB-only objects: bpf_sock_lb (cgroup
// sock_addr hooks of socket LB) and bpf_xdp (NodePort acceleration). Each
// is its own translation unit because a skeleton embeds its whole object.
#include <bpf/libbpf.h>

#include <functional>
#include <string>

#include "datapath/consts.h"
#include "datapath/nat_consts.h"

namespace cpp::datapath {

// Opens bpf_sock_lb, sets node and LB constants, reuses/creates the pinned maps
// under pin_dir, loads it and calls fn with the loaded object (its programs
// have fds); the object is destroyed afterwards, so fn must attach whatever
// should stay. Throws std::runtime_error naming the step.
void with_sock_object(const std::string& pin_dir, const NodeConsts& node,
                      const std::function<void(bpf_object*)>& fn);

// The same for bpf_xdp; fn gets cil_xdp_entry. nat: the node's SNAT
// addresses for NodePort to remote backends.
void with_xdp_program(const std::string& pin_dir, const NodeConsts& node, const NatConsts& nat,
                      const std::function<void(bpf_program*)>& fn);

}  // namespace cpp::datapath
