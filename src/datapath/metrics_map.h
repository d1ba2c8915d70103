#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace cpp::datapath {

// One cpp_metrics counter, summed over CPUs: packets the datapath forwarded
// (reason 0) or dropped (a CPP_DROP_* reason), by direction
// (CPP_METRIC_INGRESS / CPP_METRIC_EGRESS).
struct MetricsEntry {
  uint8_t reason = 0;
  uint8_t dir = 0;
  uint64_t packets = 0;
  uint64_t bytes = 0;
};

// Read-only view of the pinned cpp_metrics map (a per-CPU hash). The
// datapath only adds; the agent reads at scrape time.
class MetricsMap {
 public:
  // Opens <pin_dir>/cpp_metrics. Throws std::runtime_error.
  explicit MetricsMap(const std::string& pin_dir);
  ~MetricsMap();
  MetricsMap(const MetricsMap&) = delete;
  MetricsMap& operator=(const MetricsMap&) = delete;

  // Every counter, sorted by (reason, dir). Throws std::runtime_error.
  std::vector<MetricsEntry> dump() const;

 private:
  int fd_ = -1;
  int ncpus_ = 0;
};

}  // namespace cpp::datapath
