#pragma once
#include <string>

#include "datapath/consts.h"

namespace cpp::datapath {

struct NatConsts;  // datapath/nat_consts.h

// Puts the datapath programs on devices. Every call acts on devices of the
// calling thread's network namespace; the pin directory is on bpffs and
// shared by all programs of the node (and by a restarted agent).
//
// Loading never flushes maps: the first load creates and pins them under
// pin_dir, later loads reuse them. Attaching replaces the program in place
// (fixed tc handle/priority, BPF_TC_F_REPLACE), so reloading an endpoint or
// restarting the agent never leaves a device without a program. After
// attaching, the loader closes its handles; the tc filter keeps the program
// alive.
//
// All errors are std::runtime_error naming the object/device and the step.
class Loader {
 public:
  explicit Loader(std::string pin_dir) : pin_dir_(std::move(pin_dir)) {}
  const std::string& pin_dir() const { return pin_dir_; }

  // Mounts bpffs if needed, creates pin_dir and creates/pins every map
  // without attaching anything. Call at agent start, before restoring
  // endpoints into the maps. The LB maps get lb.map_max entries; a pinned LB
  // map of another size is replaced (loader_lb.cpp). Every program loaded
  // later must get the same NodeConsts::lb.
  void ensure_maps(const LbConsts& lb = {}) const;

  // bpf_host (cil_from_host) on tc egress of cilium_host.
  void load_host_program(const NodeConsts& node, int cilium_host_ifindex) const;

  // bpf_lxc (cil_from_container) on tc ingress of the endpoint's host-side
  // lxc device.
  void load_lxc_program(const NodeConsts& node, const EndpointConsts& ep, int lxc_ifindex) const;

  // bpf_overlay (cil_from_overlay) on tc ingress of cilium_vxlan.
  void load_overlay_program(const NodeConsts& node, int vxlan_ifindex) const;

  // bpf_netdev on the node's native device (loader_netdev.cpp): reverse NAT
  // (cil_from_netdev) on tc ingress, masquerading (cil_to_netdev) on tc
  // egress. Creates the pinned NAT maps on first use.
  void load_netdev_programs(const NodeConsts& node, const NatConsts& nat, int ifindex) const;
  static void detach_netdev(int ifindex);

  // Socket LB (loader_lb.cpp): every program of bpf_sock_lb attached to the
  // cgroup v2 directory `cgroup` (must be below /sys/fs/cgroup/unified/,
  // never the root; created if missing) through bpf_links pinned at
  // <pin_dir>/links/sock_<program>. A restarted agent swaps the programs
  // inside the pinned links (bpf_link_update): sockets in the cgroup are
  // never without translation. std::invalid_argument for a refused path.
  void attach_sock_programs(const NodeConsts& node, const std::string& cgroup) const;
  // Detaches and unpins the socket-LB links; false if there were none.
  bool detach_sock_programs() const;

  // XDP (cil_xdp_entry of bpf_xdp) on a native device. Native: driver mode
  // or an error; BestEffort: driver mode, else generic. Replaces an earlier
  // program. Returns the mode used: "native" or "generic".
  enum class XdpMode { Native, BestEffort };
  std::string attach_xdp(const NodeConsts& node, const NatConsts& nat, int ifindex, XdpMode mode) const;
  // Removes cil_xdp_entry from the device (either mode); false if it had none.
  static bool detach_xdp(int ifindex);

  // Removes the lxc program from the device (no-op if none). Not needed when
  // the device is deleted anyway.
  static void detach_lxc(int lxc_ifindex);
  static void detach_host(int cilium_host_ifindex);
  static void detach_overlay(int vxlan_ifindex);

 private:
  void prepare_pin_dir() const;
  static void detach_pinned_link(const std::string& pin);

  std::string pin_dir_;
};

}  // namespace cpp::datapath
