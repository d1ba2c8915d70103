#include "datapath/loader.h"

#include <spdlog/spdlog.h>

#include "common/files.h"
#include "datapath/bpffs.h"
#include "datapath/program.h"
#include "datapath/tc.h"

namespace cpp::datapath {

void Loader::prepare_pin_dir() const {
  // The standard place is mounted on demand, like the upstream agent does;
  // a pin dir elsewhere must already be on a bpffs the caller mounted.
  if (pin_dir_.rfind(std::string(kBpffsRoot) + "/", 0) == 0) ensure_bpffs();
  make_dirs(pin_dir_);
}

void Loader::load_host_program(const NodeConsts& node, int cilium_host_ifindex) const {
  make_dirs(pin_dir_);
  LoadedProgram prog = load_host_object(pin_dir_, node);
  tc_attach(cilium_host_ifindex, TcDir::Egress, prog.fd(), prog.name());
  spdlog::debug("datapath: {} attached to {} egress", prog.name(),
                describe_ifindex(cilium_host_ifindex));
}

void Loader::load_lxc_program(const NodeConsts& node, const EndpointConsts& ep,
                              int lxc_ifindex) const {
  make_dirs(pin_dir_);
  LoadedProgram prog = load_lxc_object(pin_dir_, node, ep, lxc_ifindex);
  tc_attach(lxc_ifindex, TcDir::Ingress, prog.fd(), prog.name());
  spdlog::debug("datapath: {} for endpoint {} attached to {} ingress", prog.name(), ep.id,
                describe_ifindex(lxc_ifindex));
}

void Loader::load_overlay_program(const NodeConsts& node, int vxlan_ifindex) const {
  make_dirs(pin_dir_);
  LoadedProgram prog = load_overlay_object(pin_dir_, node);
  tc_attach(vxlan_ifindex, TcDir::Ingress, prog.fd(), prog.name());
  spdlog::debug("datapath: {} attached to {} ingress", prog.name(), describe_ifindex(vxlan_ifindex));
}

void Loader::detach_lxc(int lxc_ifindex) { tc_detach(lxc_ifindex, TcDir::Ingress); }

void Loader::detach_host(int cilium_host_ifindex) {
  tc_detach(cilium_host_ifindex, TcDir::Egress);
}

void Loader::detach_overlay(int vxlan_ifindex) { tc_detach(vxlan_ifindex, TcDir::Ingress); }

}  // namespace cpp::datapath
