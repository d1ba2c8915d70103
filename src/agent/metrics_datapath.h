#pragma once
// Datapath packet counters (the cpp_metrics map, summed over CPUs) as
// upstream's cilium_drop_count_total / cilium_drop_bytes_total
// {reason,direction} and cilium_forward_count_total /
// cilium_forward_bytes_total {direction}. Pure: the map reader is behind
// a function, so any reader (or a test) plugs in.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "metrics/registry.h"

namespace cpp::agent {

struct DatapathCounter {
  uint8_t reason = 0;  // 0 forwarded, else a CPP_DROP_* reason
  uint8_t dir = 0;     // CPP_METRIC_INGRESS / CPP_METRIC_EGRESS
  uint64_t packets = 0;
  uint64_t bytes = 0;
};
using DatapathCounterSource = std::function<std::vector<DatapathCounter>()>;
// Upstream's text of a drop reason ("Policy denied").
using DropReasonText = std::function<std::string(uint8_t reason)>;

// "INGRESS", "EGRESS", "UNKNOWN" as upstream's metrics label them.
const char* metric_direction(uint8_t dir);

// The four families from one dump; entries with the same labels add up.
// Without reason_text a drop reason is labelled by its number.
std::vector<metrics::FamilySnapshot> datapath_families(const std::vector<DatapathCounter>& counters,
                                                       const DropReasonText& reason_text);

}  // namespace cpp::agent
