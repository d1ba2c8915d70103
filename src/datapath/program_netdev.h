#pragma once
#include <string>

#include "datapath/consts.h"
#include "datapath/nat_consts.h"
#include "datapath/program.h"

namespace cpp::datapath {

// bpf_netdev's two programs, loaded from one object (they share its
// .rodata): cil_to_netdev for tc egress, cil_from_netdev for tc ingress of
// the native device. Destroying it releases whatever no tc filter holds.
struct NetdevPrograms {
  LoadedProgram to_netdev;    // owns the object
  int from_netdev_fd = -1;    // valid while to_netdev lives
  std::string from_netdev_name;
};

// Opens the embedded bpf_netdev object, sets node and NAT constants, reuses
// or creates the pinned maps under pin_dir (which must exist) and loads.
// Throws std::runtime_error / std::invalid_argument naming the step.
NetdevPrograms load_netdev_object(const std::string& pin_dir, const NodeConsts& node,
                                  const NatConsts& nat);

}  // namespace cpp::datapath
