// The only translation unit that includes the bpf_sock_lb skeleton.
#include "datapath/program_sock.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "bpf_sock_lb.skel.h"
#include "datapath/libbpf_log.h"
#include "datapath/program_lb.h"
#include "datapath/program_node.h"

namespace cpp::datapath {

void with_sock_object(const std::string& pin_dir, const NodeConsts& node,
                      const std::function<void(bpf_object*)>& fn) {
  route_libbpf_logs();
  bpf_object_open_opts opts{};
  opts.sz = sizeof(opts);
  opts.pin_root_path = pin_dir.c_str();
  bpf_sock_lb* skel = bpf_sock_lb::open(&opts);
  if (!skel) throw std::runtime_error(std::string("bpf_sock_lb: open: ") + std::strerror(errno));
  try {
    set_node_consts_if_declared(skel, node);
    configure_lb(skel, node.lb);
    if (int err = bpf_sock_lb::load(skel))
      throw std::runtime_error("bpf_sock_lb: load (pin dir " + pin_dir + "): " + std::strerror(-err));
    fn(skel->obj);
  } catch (...) {
    bpf_sock_lb::destroy(skel);
    throw;
  }
  bpf_sock_lb::destroy(skel);
}

}  // namespace cpp::datapath
