#include "datapath/tc.h"

#include <bpf/libbpf.h>
#include <net/if.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace cpp::datapath {
namespace {

const char* dir_name(TcDir d) { return d == TcDir::Ingress ? "ingress" : "egress"; }

bpf_tc_hook make_hook(int ifindex, TcDir dir) {
  bpf_tc_hook hook{};
  hook.sz = sizeof(hook);
  hook.ifindex = ifindex;
  hook.attach_point = dir == TcDir::Ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS;
  return hook;
}

bpf_tc_opts make_opts() {
  bpf_tc_opts opts{};
  opts.sz = sizeof(opts);
  opts.handle = kTcHandle;
  opts.priority = kTcPriority;
  return opts;
}

[[noreturn]] void fail(const std::string& what, int ifindex, TcDir dir, int err) {
  throw std::runtime_error(what + " on " + describe_ifindex(ifindex) + " " + dir_name(dir) + ": " +
                           std::strerror(err < 0 ? -err : err));
}

}  // namespace

std::string describe_ifindex(int ifindex) {
  char name[IF_NAMESIZE] = {};
  std::string s = ::if_indextoname(static_cast<unsigned>(ifindex), name) ? name : "<unknown>";
  return s + " (ifindex " + std::to_string(ifindex) + ")";
}

void tc_attach(int ifindex, TcDir dir, int prog_fd, const std::string& prog_name) {
  bpf_tc_hook hook = make_hook(ifindex, dir);
  // Creates the clsact qdisc (both directions); an existing one is reused.
  int err = bpf_tc_hook_create(&hook);
  if (err && err != -EEXIST) fail("create clsact qdisc", ifindex, dir, err);

  bpf_tc_opts opts = make_opts();
  opts.prog_fd = prog_fd;
  opts.flags = BPF_TC_F_REPLACE;
  err = bpf_tc_attach(&hook, &opts);
  if (err) fail("attach " + prog_name, ifindex, dir, err);
}

bool tc_detach(int ifindex, TcDir dir) {
  bpf_tc_hook hook = make_hook(ifindex, dir);
  bpf_tc_opts opts = make_opts();
  int err = bpf_tc_detach(&hook, &opts);
  // ENOENT: no filter; EINVAL: no clsact qdisc at all. Either way nothing
  // of ours is attached.
  if (err == -ENOENT || err == -EINVAL) return false;
  if (err) fail("detach", ifindex, dir, err);
  return true;
}

std::optional<uint32_t> tc_query(int ifindex, TcDir dir) {
  bpf_tc_hook hook = make_hook(ifindex, dir);
  bpf_tc_opts opts = make_opts();
  int err = bpf_tc_query(&hook, &opts);
  if (err == -ENOENT || err == -EINVAL) return std::nullopt;
  if (err) fail("query", ifindex, dir, err);
  return opts.prog_id;
}

}  // namespace cpp::datapath
