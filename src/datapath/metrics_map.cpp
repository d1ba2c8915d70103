#include "datapath/metrics_map.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <ciliumpp/abi.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace cpp::datapath {
namespace {

[[noreturn]] void fail(const std::string& what, int err) {
  throw std::runtime_error(what + ": " + std::strerror(err < 0 ? -err : err));
}

}  // namespace

MetricsMap::MetricsMap(const std::string& pin_dir) {
  const std::string path = pin_dir + "/" CPP_MAP_METRICS;
  fd_ = bpf_obj_get(path.c_str());
  if (fd_ < 0) fail("open pinned map " + path, errno);
  bpf_map_info info{};
  uint32_t len = sizeof(info);
  int err = bpf_obj_get_info_by_fd(fd_, &info, &len) < 0 ? errno : 0;
  if (!err && (info.key_size != sizeof(cpp_metrics_key) || info.value_size != sizeof(cpp_metrics_value)))
    err = EINVAL;  // a pin from before an ABI change
  ncpus_ = libbpf_num_possible_cpus();
  if (!err && ncpus_ <= 0) err = -ncpus_;
  if (err) {
    ::close(fd_);
    fail("pinned map " + path, err);
  }
}

MetricsMap::~MetricsMap() { ::close(fd_); }

std::vector<MetricsEntry> MetricsMap::dump() const {
  // Per-CPU values come as one 8-byte-aligned slot per possible CPU.
  std::vector<cpp_metrics_value> per_cpu(static_cast<size_t>(ncpus_));
  std::vector<MetricsEntry> out;
  cpp_metrics_key key{}, next{};
  const void* prev = nullptr;
  while (bpf_map_get_next_key(fd_, prev, &next) == 0) {
    key = next;
    prev = &key;
    if (bpf_map_lookup_elem(fd_, &key, per_cpu.data()) < 0) {
      if (errno == ENOENT) continue;  // removed meanwhile
      fail("read " CPP_MAP_METRICS, errno);
    }
    MetricsEntry e;
    e.reason = key.reason;
    e.dir = key.dir;
    for (const auto& v : per_cpu) {
      e.packets += v.packets;
      e.bytes += v.bytes;
    }
    out.push_back(e);
  }
  std::sort(out.begin(), out.end(), [](const MetricsEntry& a, const MetricsEntry& b) {
    return a.reason != b.reason ? a.reason < b.reason : a.dir < b.dir;
  });
  return out;
}

}  // namespace cpp::datapath
