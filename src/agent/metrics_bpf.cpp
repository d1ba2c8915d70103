#include "agent/metrics_bpf.h"

#include <bpf/bpf.h>
#include <ciliumpp/abi.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "common/log.h"

namespace cpp::agent {

const std::vector<std::string>& pressure_map_names() {
  static const std::vector<std::string> names{
      CPP_MAP_ENDPOINTS, CPP_MAP_IPCACHE, CPP_MAP_POLICY,      CPP_MAP_CT4,         CPP_MAP_CT6,
      CPP_MAP_SNAT4,     CPP_MAP_SNAT6,   CPP_MAP_LB_SVC,      CPP_MAP_LB_BACKENDS, CPP_MAP_LB_AFFINITY,
      CPP_MAP_LB_CT4,    CPP_MAP_LB_CT6,  CPP_MAP_LB_SK_REV};
  return names;
}

std::optional<MapFill> count_map(const std::string& path) {
  if (!std::filesystem::exists(path)) return std::nullopt;
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0) throw std::runtime_error("open pinned map " + path + ": " + std::strerror(errno));
  bpf_map_info info{};
  uint32_t len = sizeof(info);
  int err = bpf_obj_get_info_by_fd(fd, &info, &len);
  ::close(fd);
  if (err) throw std::runtime_error("query map " + path + ": " + std::strerror(-err));
  switch (info.type) {
    case BPF_MAP_TYPE_HASH:
    case BPF_MAP_TYPE_LRU_HASH:
    case BPF_MAP_TYPE_LPM_TRIE: break;
    default: return std::nullopt;
  }
  MapFill f{path.substr(path.rfind('/') + 1), 0, info.max_entries};
  datapath::PinnedMap(path, info.key_size, info.value_size).for_each([&](const void*, const void*) { ++f.entries; });
  return f;
}

MapPressure::MapPressure(std::string pin_dir, std::chrono::milliseconds min_interval)
    : pin_dir_(std::move(pin_dir)), interval_(min_interval) {}

size_t MapPressure::recounts() const {
  std::lock_guard lock(mu_);
  return recounts_;
}

metrics::FamilySnapshot MapPressure::collect() {
  std::lock_guard lock(mu_);
  auto now = std::chrono::steady_clock::now();
  if (!counted_ || now - last_ >= interval_) {
    std::vector<MapFill> fills;
    for (const auto& name : pressure_map_names()) {
      try {
        if (auto f = count_map(pin_dir_ + "/" + name)) fills.push_back(*f);
      } catch (const std::exception& e) {
        spdlog::warn("map pressure: {}", e.what());
      }
    }
    fills_ = std::move(fills);
    last_ = now;
    counted_ = true;
    ++recounts_;
  }
  metrics::FamilySnapshot f{"cilium_bpf_map_pressure",
                            "Fill percentage of map, tagged by map name", metrics::Type::Gauge, {}};
  for (const auto& m : fills_)
    if (m.max_entries > 0)
      f.samples.push_back({{{"map_name", m.name}}, static_cast<double>(m.entries) / m.max_entries, ""});
  return f;
}

void MapOpCounter::on_map_op(const std::string& map_name, datapath::MapOp op, bool ok) noexcept {
  size_t slot = (op == datapath::MapOp::Update ? 0 : 2) + (ok ? 0 : 1);
  {
    std::shared_lock lock(mu_);
    if (auto it = cache_.find(map_name); it != cache_.end()) {
      it->second[slot]->inc();
      return;
    }
  }
  try {
    std::array<metrics::Counter*, 4> counters{
        &family_.with({map_name, "update", "success"}), &family_.with({map_name, "update", "fail"}),
        &family_.with({map_name, "delete", "success"}), &family_.with({map_name, "delete", "fail"})};
    std::unique_lock lock(mu_);
    cache_.try_emplace(map_name, counters).first->second[slot]->inc();
  } catch (...) {
    // Out of memory while counting: losing one count beats failing the write.
  }
}

}  // namespace cpp::agent
