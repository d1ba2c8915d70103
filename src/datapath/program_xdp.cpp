// The only translation unit that includes the bpf_xdp skeleton.
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "bpf_xdp.skel.h"
#include "datapath/libbpf_log.h"
#include "datapath/program_lb.h"
#include "datapath/program_node.h"
#include "datapath/program_sock.h"

namespace cpp::datapath {

void with_xdp_program(const std::string& pin_dir, const NodeConsts& node, const NatConsts& nat,
                      const std::function<void(bpf_program*)>& fn) {
  route_libbpf_logs();
  bpf_object_open_opts opts{};
  opts.sz = sizeof(opts);
  opts.pin_root_path = pin_dir.c_str();
  bpf_xdp* skel = bpf_xdp::open(&opts);
  if (!skel) throw std::runtime_error(std::string("bpf_xdp: open: ") + std::strerror(errno));
  try {
    set_node_consts_if_declared(skel, node);
    set_nat_consts_if_declared(skel, nat);
    configure_lb(skel, node.lb);
    if (int err = bpf_xdp::load(skel))
      throw std::runtime_error("bpf_xdp: load (pin dir " + pin_dir + "): " + std::strerror(-err));
    fn(skel->progs.cil_xdp_entry);
  } catch (...) {
    bpf_xdp::destroy(skel);
    throw;
  }
  bpf_xdp::destroy(skel);
}

}  // namespace cpp::datapath
