#include "agent/metrics_datapath.h"

#include <ciliumpp/abi.h>

#include <map>

namespace cpp::agent {

const char* metric_direction(uint8_t dir) {
  switch (dir) {
    case CPP_METRIC_INGRESS: return "INGRESS";
    case CPP_METRIC_EGRESS: return "EGRESS";
    default: return "UNKNOWN";
  }
}

std::vector<metrics::FamilySnapshot> datapath_families(const std::vector<DatapathCounter>& counters,
                                                       const DropReasonText& reason_text) {
  using Key = std::pair<std::string, std::string>;  // (reason, direction)
  std::map<Key, std::pair<uint64_t, uint64_t>> drops;
  std::map<std::string, std::pair<uint64_t, uint64_t>> forwards;
  for (const auto& c : counters) {
    std::string dir = metric_direction(c.dir);
    auto& slot = c.reason == 0 ? forwards[dir]
                               : drops[{reason_text ? reason_text(c.reason) : std::to_string(c.reason), dir}];
    slot.first += c.packets;
    slot.second += c.bytes;
  }
  using metrics::Type;
  metrics::FamilySnapshot dc{"cilium_drop_count_total", "Total dropped packets, tagged by drop reason and ingress/egress direction", Type::Counter, {}};
  metrics::FamilySnapshot db{"cilium_drop_bytes_total", "Total dropped bytes, tagged by drop reason and ingress/egress direction", Type::Counter, {}};
  metrics::FamilySnapshot fc{"cilium_forward_count_total", "Total forwarded packets, tagged by ingress/egress direction", Type::Counter, {}};
  metrics::FamilySnapshot fb{"cilium_forward_bytes_total", "Total forwarded bytes, tagged by ingress/egress direction", Type::Counter, {}};
  for (const auto& [k, v] : drops) {
    std::vector<std::pair<std::string, std::string>> labels{{"reason", k.first}, {"direction", k.second}};
    dc.samples.push_back({labels, static_cast<double>(v.first), ""});
    db.samples.push_back({labels, static_cast<double>(v.second), ""});
  }
  for (const auto& [dir, v] : forwards) {
    std::vector<std::pair<std::string, std::string>> labels{{"direction", dir}};
    fc.samples.push_back({labels, static_cast<double>(v.first), ""});
    fb.samples.push_back({labels, static_cast<double>(v.second), ""});
  }
  return {std::move(dc), std::move(db), std::move(fc), std::move(fb)};
}

}  // namespace cpp::agent
