// Loader parts of kube-proxy replacement: LB map sizing, socket LB on a
// cgroup through pinned bpf_links, XDP on the native device.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <utility>
#include <vector>

#include "common/files.h"
#include "datapath/loader.h"
#include "datapath/program.h"
#include "datapath/program_lb.h"
#include "datapath/program_sock.h"
#include "datapath/tc.h"

namespace cpp::datapath {
namespace {

namespace fs = std::filesystem;

constexpr const char* kCgroupBase = "/sys/fs/cgroup/unified/";
constexpr const char* kSockLinkPrefix = "sock_";

std::string errstr(int err) { return std::strerror(err < 0 ? -err : err); }

// Raw entries of a map, for carrying them over into a re-created one.
using RawEntries = std::vector<std::pair<std::vector<uint8_t>, std::vector<uint8_t>>>;

RawEntries read_raw(int fd, const bpf_map_info& info) {
  RawEntries out;
  std::vector<uint8_t> key(info.key_size), next(info.key_size), value(info.value_size);
  const void* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, next.data()) == 0) {
    key.swap(next);
    prev = key.data();
    if (bpf_map_lookup_elem(fd, key.data(), value.data()) == 0) out.emplace_back(key, value);
  }
  return out;
}

// A pinned map whose size differs from what the objects now declare cannot
// be reused by libbpf: the pin is dropped so the next load creates it anew.
// The agent-written maps (services, backends) keep their entries, and with
// them every id; the datapath-written ones (affinity, translations) start
// empty. Returns the entries to put back once the new maps exist.
std::vector<std::pair<std::string, RawEntries>> drop_resized_lb_pins(const std::string& pin_dir, uint32_t map_max) {
  std::vector<std::pair<std::string, RawEntries>> keep;
  for (auto* n = lb_sized_map_names(); *n; ++n) {
    std::string path = pin_dir + "/" + *n;
    int fd = bpf_obj_get(path.c_str());
    if (fd < 0) continue;
    bpf_map_info info{};
    uint32_t len = sizeof(info);
    int err = bpf_obj_get_info_by_fd(fd, &info, &len);
    if (err || info.max_entries == map_max) {
      ::close(fd);
      continue;
    }
    bool agent_written = std::string(*n) == CPP_MAP_LB_SVC || std::string(*n) == CPP_MAP_LB_BACKENDS;
    if (agent_written) keep.emplace_back(path, read_raw(fd, info));
    ::close(fd);
    spdlog::warn("datapath: {} has {} entries, bpf-lb-map-max is {}: re-creating it{}", path, info.max_entries,
                 map_max, agent_written ? " with its entries" : "");
    if (::unlink(path.c_str()) != 0) throw std::runtime_error("unpin " + path + ": " + errstr(errno));
  }
  return keep;
}

void restore_raw(const std::string& path, const RawEntries& entries) {
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0) throw std::runtime_error("open re-created map " + path + ": " + errstr(errno));
  size_t lost = 0;
  for (const auto& [k, v] : entries)
    if (bpf_map_update_elem(fd, k.data(), v.data(), BPF_ANY) != 0) ++lost;
  ::close(fd);
  // A smaller map may not hold them all; the agent reprograms what it wants.
  if (lost) spdlog::warn("datapath: {} entries of {} did not fit the re-created map", lost, path);
}

std::string checked_cgroup(const std::string& cgroup) {
  fs::path p = fs::path(cgroup).lexically_normal();
  std::string s = p.string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  if (!p.is_absolute() || s.rfind(kCgroupBase, 0) != 0 || s.size() <= std::strlen(kCgroupBase))
    throw std::invalid_argument("config key 'cgroup-root': \"" + cgroup + "\" is not a cgroup below " +
                                kCgroupBase + " (socket LB never attaches to the root cgroup or elsewhere)");
  struct statfs st{};
  if (::statfs(kCgroupBase, &st) != 0 || st.f_type != CGROUP2_SUPER_MAGIC)
    throw std::runtime_error(std::string("socket LB: ") + kCgroupBase + " is not a cgroup v2 mount");
  std::error_code ec;
  fs::create_directories(s, ec);
  if (ec) throw std::runtime_error("socket LB: create cgroup " + s + ": " + ec.message());
  return s;
}

uint64_t cgroup_id(const std::string& dir) {
  struct stat st{};
  if (::stat(dir.c_str(), &st) != 0) throw std::runtime_error("stat " + dir + ": " + errstr(errno));
  return st.st_ino;  // a cgroup v2 directory's inode number is its cgroup id
}

// The cgroup a pinned link is attached to, 0 if it is not a live cgroup link.
uint64_t link_cgroup(bpf_link* link) {
  bpf_link_info info{};
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(bpf_link__fd(link), &info, &len) != 0) return 0;
  if (info.type != BPF_LINK_TYPE_CGROUP) return 0;
  return info.cgroup.cgroup_id;
}

std::string links_dir(const std::string& pin_dir) { return pin_dir + "/links"; }

}  // namespace

void Loader::ensure_maps(const LbConsts& lb) const {
  prepare_pin_dir();
  auto carried = drop_resized_lb_pins(pin_dir_, lb.map_max);
  create_pinned_maps(pin_dir_, lb);
  for (const auto& [path, entries] : carried) restore_raw(path, entries);
}

void Loader::attach_sock_programs(const NodeConsts& node, const std::string& cgroup) const {
  std::string dir = checked_cgroup(cgroup);
  int cg_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cg_fd < 0) throw std::runtime_error("socket LB: open cgroup " + dir + ": " + errstr(errno));
  uint64_t want_cg = cgroup_id(dir);
  make_dirs(links_dir(pin_dir_));
  std::set<std::string> attached;
  try {
    with_sock_object(pin_dir_, node, [&](bpf_object* obj) {
      bpf_program* prog;
      bpf_object__for_each_program(prog, obj) {
        std::string name = bpf_program__name(prog);
        std::string pin = links_dir(pin_dir_) + "/" + kSockLinkPrefix + name;
        // A restarted agent swaps the program inside the existing link: the
        // cgroup never runs without the hook.
        if (bpf_link* old = bpf_link__open(pin.c_str())) {
          int err = link_cgroup(old) == want_cg ? bpf_link__update_program(old, prog) : -EXDEV;
          if (err == 0) {
            bpf_link__destroy(old);  // closes our fd; the pin keeps the link
            attached.insert(name);
            continue;
          }
          spdlog::info("socket LB: pinned link {} not reusable ({}), attaching anew", pin,
                       err == -EXDEV ? "other cgroup" : errstr(err));
          bpf_link__detach(old);
          bpf_link__unpin(old);
          bpf_link__destroy(old);
        }
        bpf_link* link = bpf_program__attach_cgroup(prog, cg_fd);
        if (!link) throw std::runtime_error("socket LB: attach " + name + " to " + dir + ": " + errstr(errno));
        int err = bpf_link__pin(link, pin.c_str());
        bpf_link__destroy(link);  // pinned or not, our fd goes; unpinned it detaches
        if (err) throw std::runtime_error("socket LB: pin link " + pin + ": " + errstr(err));
        attached.insert(name);
      }
    });
  } catch (...) {
    ::close(cg_fd);
    throw;
  }
  ::close(cg_fd);
  // Programs an earlier build had and this one does not.
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(links_dir(pin_dir_), ec)) {
    std::string f = e.path().filename().string();
    if (f.rfind(kSockLinkPrefix, 0) == 0 && !attached.count(f.substr(std::strlen(kSockLinkPrefix))))
      detach_pinned_link(e.path().string());
  }
  spdlog::info("socket LB: {} programs attached to cgroup {}", attached.size(), dir);
}

void Loader::detach_pinned_link(const std::string& pin) {
  if (bpf_link* l = bpf_link__open(pin.c_str())) {
    bpf_link__detach(l);
    bpf_link__destroy(l);
  }
  ::unlink(pin.c_str());
}

bool Loader::detach_sock_programs() const {
  bool any = false;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(links_dir(pin_dir_), ec)) {
    if (e.path().filename().string().rfind(kSockLinkPrefix, 0) != 0) continue;
    detach_pinned_link(e.path().string());
    any = true;
  }
  return any;
}

std::string Loader::attach_xdp(const NodeConsts& node, const NatConsts& nat, int ifindex, XdpMode mode) const {
  make_dirs(pin_dir_);
  std::string used;
  with_xdp_program(pin_dir_, node, nat, [&](bpf_program* prog) {
    int fd = bpf_program__fd(prog);
    bpf_xdp_query_opts q{};
    q.sz = sizeof(q);
    bpf_xdp_query(ifindex, 0, &q);
    auto try_mode = [&](uint32_t flag) -> int {
      // Driver and generic programs cannot coexist: leave the other mode first.
      uint8_t other = flag == XDP_FLAGS_DRV_MODE ? XDP_ATTACHED_SKB : XDP_ATTACHED_DRV;
      if (q.attach_mode == other)
        bpf_xdp_detach(ifindex, flag == XDP_FLAGS_DRV_MODE ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE, nullptr);
      return bpf_xdp_attach(ifindex, fd, flag, nullptr);
    };
    int err = try_mode(XDP_FLAGS_DRV_MODE);
    if (err == 0) {
      used = "native";
      return;
    }
    if (mode == XdpMode::Native)
      throw std::runtime_error("XDP: native attach of " + std::string(bpf_program__name(prog)) + " to " +
                               describe_ifindex(ifindex) + ": " + errstr(err) +
                               " (bpf-lb-acceleration: best-effort falls back to generic XDP)");
    spdlog::info("XDP: native mode on {} failed ({}), using generic mode", describe_ifindex(ifindex), errstr(err));
    if (int e2 = try_mode(XDP_FLAGS_SKB_MODE))
      throw std::runtime_error("XDP: generic attach to " + describe_ifindex(ifindex) + ": " + errstr(e2));
    used = "generic";
  });
  spdlog::info("XDP: cil_xdp_entry attached to {} in {} mode", describe_ifindex(ifindex), used);
  return used;
}

bool Loader::detach_xdp(int ifindex) {
  bpf_xdp_query_opts q{};
  q.sz = sizeof(q);
  if (bpf_xdp_query(ifindex, 0, &q) != 0 || q.attach_mode == XDP_ATTACHED_NONE) return false;
  uint32_t id = q.attach_mode == XDP_ATTACHED_SKB ? q.skb_prog_id : q.drv_prog_id;
  if (int fd = bpf_prog_get_fd_by_id(id); fd >= 0) {
    bpf_prog_info info{};
    uint32_t len = sizeof(info);
    int err = bpf_obj_get_info_by_fd(fd, &info, &len);
    ::close(fd);
    if (err == 0 && std::string(info.name) != "cil_xdp_entry") return false;  // not ours
  }
  uint32_t flags = q.attach_mode == XDP_ATTACHED_SKB ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
  if (int err = bpf_xdp_detach(ifindex, flags, nullptr))
    throw std::runtime_error("XDP: detach from " + describe_ifindex(ifindex) + ": " + errstr(err));
  return true;
}

}  // namespace cpp::datapath
