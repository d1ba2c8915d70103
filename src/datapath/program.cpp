// The only translation unit that includes the skeletons: each embeds its
// whole BPF object, so one copy in the binary is enough.
#include "datapath/program.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "bpf_host.skel.h"
#include "bpf_lxc.skel.h"
#include "bpf_overlay.skel.h"
#include "datapath/libbpf_log.h"
#include "datapath/program_lb.h"

namespace cpp::datapath {
namespace {

[[noreturn]] void fail(const std::string& obj, const std::string& step, int err) {
  throw std::runtime_error(obj + ": " + step + ": " + std::strerror(err < 0 ? -err : err));
}

bpf_object_open_opts open_opts(const std::string& pin_dir) {
  bpf_object_open_opts opts{};
  opts.sz = sizeof(opts);
  // Maps declared with LIBBPF_PIN_BY_NAME are reused from, or created and
  // pinned at, <pin_dir>/<name>. Never flushed: they carry the state.
  opts.pin_root_path = pin_dir.c_str();
  return opts;
}

uint32_t ipv4_be(const std::optional<IpAddr>& a, const char* what) {
  if (!a) return 0;
  if (a->v6) throw std::invalid_argument(std::string(what) + " is not an IPv4 address: " + a->str());
  uint32_t v;
  std::memcpy(&v, a->bytes.data(), 4);  // stays in network order
  return v;
}

void ipv6_bytes(uint8_t (&dst)[16], const std::optional<IpAddr>& a, const char* what) {
  std::memset(dst, 0, sizeof(dst));
  if (!a) return;
  if (!a->v6) throw std::invalid_argument(std::string(what) + " is not an IPv6 address: " + a->str());
  std::memcpy(dst, a->bytes.data(), 16);
}

// Every skeleton's .rodata starts with the node constants of bpf/lib/config.h.
template <typename Rodata>
void set_node_consts(Rodata* ro, const NodeConsts& node) {
  ro->ENABLE_IPV4 = node.enable_ipv4;
  ro->ENABLE_IPV6 = node.enable_ipv6;
  ro->ROUTER_IPV4 = ipv4_be(node.router_ipv4, "router IPv4");
  ipv6_bytes(ro->ROUTER_IPV6, node.router_ipv6, "router IPv6");
  ro->MONITOR_AGGREGATION = node.monitor_aggregation;
}

// Opens skeleton Skel, lets `configure` fill in .rodata, loads it, and
// wraps the result. Skel::open/load/destroy are the skeleton's C++ statics.
template <typename Skel, typename Configure, typename ProgOf>
LoadedProgram load(const char* obj_name, const std::string& pin_dir, Configure configure,
                   ProgOf prog_of) {
  route_libbpf_logs();
  auto opts = open_opts(pin_dir);
  Skel* skel = Skel::open(&opts);
  if (!skel) fail(obj_name, "open", errno);
  try {
    configure(skel);
  } catch (...) {
    Skel::destroy(skel);
    throw;
  }
  if (int err = Skel::load(skel)) {
    Skel::destroy(skel);
    fail(obj_name, "load (pin dir " + pin_dir + ")", err);
  }
  bpf_program* prog = prog_of(skel);
  return LoadedProgram(bpf_program__name(prog), bpf_program__fd(prog),
                       [skel] { Skel::destroy(skel); });
}

}  // namespace

LoadedProgram load_host_object(const std::string& pin_dir, const NodeConsts& node) {
  return load<bpf_host>(
      "bpf_host", pin_dir,
      [&](bpf_host* s) {
        set_node_consts(s->rodata, node);
        s->rodata->ENCAP_IFINDEX = static_cast<uint32_t>(node.encap_ifindex);
        configure_lb(s, node.lb);
      },
      [](bpf_host* s) { return s->progs.cil_from_host; });
}

LoadedProgram load_lxc_object(const std::string& pin_dir, const NodeConsts& node,
                              const EndpointConsts& ep, int lxc_ifindex) {
  return load<bpf_lxc>(
      "bpf_lxc", pin_dir,
      [&](bpf_lxc* s) {
        auto* ro = s->rodata;
        set_node_consts(ro, node);
        ro->ENCAP_IFINDEX = static_cast<uint32_t>(node.encap_ifindex);
        ro->LXC_ID = ep.id;
        ro->LXC_IFINDEX = static_cast<uint32_t>(lxc_ifindex);
        std::memcpy(ro->LXC_MAC, ep.lxc_mac.data(), sizeof(ro->LXC_MAC));
        ro->LXC_IPV4 = ipv4_be(ep.ipv4, "endpoint IPv4");
        ipv6_bytes(ro->LXC_IPV6, ep.ipv6, "endpoint IPv6");
        ro->SECLABEL = ep.sec_label;
        configure_lb(s, node.lb);
      },
      [](bpf_lxc* s) { return s->progs.cil_from_container; });
}

LoadedProgram load_overlay_object(const std::string& pin_dir, const NodeConsts& node) {
  return load<bpf_overlay>(
      "bpf_overlay", pin_dir,
      [&](bpf_overlay* s) {
        set_node_consts(s->rodata, node);
        configure_lb(s, node.lb);
      },
      [](bpf_overlay* s) { return s->progs.cil_from_overlay; });
}

void create_pinned_maps(const std::string& pin_dir, const LbConsts& lb) {
  // bpf_host declares the same maps as every other program (bpf/lib/maps.h);
  // loading it with its program switched off creates and pins just the maps.
  load<bpf_host>(
      "bpf_host (maps only)", pin_dir,
      [&](bpf_host* s) {
        bpf_program__set_autoload(s->progs.cil_from_host, false);
        size_lb_maps(s->obj, lb.map_max);
      },
      [](bpf_host* s) { return s->progs.cil_from_host; });
}

}  // namespace cpp::datapath
