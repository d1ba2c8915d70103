#include <spdlog/spdlog.h>

#include "common/files.h"
#include "datapath/loader.h"
#include "datapath/nat_consts.h"
#include "datapath/program_netdev.h"
#include "datapath/tc.h"

namespace cpp::datapath {

void Loader::load_netdev_programs(const NodeConsts& node, const NatConsts& nat, int ifindex) const {
  make_dirs(pin_dir_);
  NetdevPrograms progs = load_netdev_object(pin_dir_, node, nat);
  // Reverse NAT first: by the time anything is masqueraded with the new
  // program, its answers are already translated by the matching one.
  tc_attach(ifindex, TcDir::Ingress, progs.from_netdev_fd, progs.from_netdev_name);
  tc_attach(ifindex, TcDir::Egress, progs.to_netdev.fd(), progs.to_netdev.name());
  spdlog::debug("datapath: {}/{} attached to {}", progs.from_netdev_name, progs.to_netdev.name(),
                describe_ifindex(ifindex));
}

void Loader::detach_netdev(int ifindex) {
  tc_detach(ifindex, TcDir::Egress);
  tc_detach(ifindex, TcDir::Ingress);
}

}  // namespace cpp::datapath
