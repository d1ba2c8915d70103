#pragma once
// BPF map metrics: cilium_bpf_map_pressure{map_name} (entries / max
// entries of the agent's pinned hash, LRU and LPM maps, recounted at most
// once per interval because a full CT map takes a few hundred syscalls) and
// cilium_bpf_map_ops_total{map_name,operation,outcome} (every PinnedMap
// update/delete, through datapath::set_map_op_observer).
#include <array>
#include <chrono>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "datapath/pinned_map.h"
#include "metrics/registry.h"

namespace cpp::agent {

// The maps whose pressure is exported (those that exist are counted).
const std::vector<std::string>& pressure_map_names();

struct MapFill {
  std::string name;
  uint64_t entries = 0;
  uint32_t max_entries = 0;
};
// Counts the entries of the pinned map at path. nullopt when it does not
// exist or is of a type where pressure means nothing (arrays, per-CPU maps,
// ring buffers, map-in-map). Throws std::runtime_error on other failures.
std::optional<MapFill> count_map(const std::string& path);

class MapPressure {
 public:
  MapPressure(std::string pin_dir, std::chrono::milliseconds min_interval);
  // The cached values, recounted first when older than the interval.
  metrics::FamilySnapshot collect();
  // Recounts done so far (tests check the cache).
  size_t recounts() const;

 private:
  std::string pin_dir_;
  std::chrono::milliseconds interval_;
  mutable std::mutex mu_;
  std::chrono::steady_clock::time_point last_{};
  bool counted_ = false;
  size_t recounts_ = 0;
  std::vector<MapFill> fills_;
};

class MapOpCounter : public datapath::MapOpObserver {
 public:
  explicit MapOpCounter(metrics::CounterFamily& family) : family_(family) {}
  void on_map_op(const std::string& map_name, datapath::MapOp op, bool ok) noexcept override;

 private:
  metrics::CounterFamily& family_;
  // map name -> counters by (op, ok); no allocation after a map's first op.
  std::shared_mutex mu_;
  std::unordered_map<std::string, std::array<metrics::Counter*, 4>> cache_;
};

}  // namespace cpp::agent
