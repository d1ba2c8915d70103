#include "lab/veth_xdp.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <stdexcept>

#include "netlink/netns.h"

namespace cpp::lab {
namespace {

void in_netns(const std::string& netns, const std::string& what, const std::function<std::string()>& fn) {
  std::string err;
  cpp::run_in_netns(cpp::NetnsHandle::open_path("/run/netns/" + netns), [&] { err = fn(); });
  if (!err.empty()) throw std::runtime_error(what + " in " + netns + ": " + err);
}

}  // namespace

void attach_xdp_pass(const std::string& netns, const std::string& dev) {
  in_netns(netns, "XDP pass program on " + dev, [&]() -> std::string {
    unsigned ifindex = ::if_nametoindex(dev.c_str());
    if (ifindex == 0) return std::strerror(errno);
    // r0 = XDP_PASS; exit
    const bpf_insn insns[] = {
        {BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, XDP_PASS},
        {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
    };
    int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "lab_xdp_pass", "GPL", insns, 2, nullptr);
    if (fd < 0) return std::string("load: ") + std::strerror(-fd);
    int rc = bpf_xdp_attach(static_cast<int>(ifindex), fd, XDP_FLAGS_DRV_MODE, nullptr);
    ::close(fd);
    return rc < 0 ? std::string("attach: ") + std::strerror(-rc) : "";
  });
}

void set_tx_checksum(const std::string& netns, const std::string& dev, bool on) {
  in_netns(netns, std::string(on ? "enable" : "disable") + " TX checksum offload on " + dev, [&]() -> std::string {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return std::strerror(errno);
    ethtool_value v{};
    v.cmd = ETHTOOL_STXCSUM;
    v.data = on ? 1 : 0;
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, dev.c_str(), IFNAMSIZ - 1);
    ifr.ifr_data = reinterpret_cast<char*>(&v);
    std::string err = ::ioctl(fd, SIOCETHTOOL, &ifr) == 0 ? "" : std::strerror(errno);
    ::close(fd);
    return err;
  });
}

}  // namespace cpp::lab
