#pragma once
// Text output of `cilium-health status`, as upstream prints it.
#include <cstdint>
#include <string>

#include "health/report.h"

namespace cpp::health {

// Go's time.Duration String(): "0s", "850ns", "296.417µs", "1.5ms", "2s", "1m30s".
std::string format_go_duration(int64_t ns);
// "2026-11-26T16:50:00Z" (RFC 3339, UTC, seconds).
std::string format_rfc3339(int64_t unix_ms);
// "OK, RTT=296.417µs", or the failure.
std::string format_probe(const ProbeResult& r);
// The summary line and one block per node; verbose adds secondary addresses.
std::string format_status(const HealthReport& r, bool verbose = false);

}  // namespace cpp::health
