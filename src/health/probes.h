#pragma once
// The two probes of upstream cilium-health, run from the calling thread's
// network namespace. Each returns Ok with the round trip, or Unreachable with
// the reason; neither throws.
#include <chrono>
#include <optional>
#include <string>

#include "common/ip.h"
#include "health/report.h"

namespace cpp::health {

// ICMP (or ICMPv6) echo over a raw socket (the agent runs as root; the
// unprivileged ping socket depends on net.ipv4.ping_group_range).
ProbeResult icmp_probe(const IpAddr& dst, std::chrono::milliseconds timeout);

// GET /hello on dst:port; Ok when the answer's status is 200. The latency is
// from the start of the TCP connect to the status line.
ProbeResult http_probe(const IpAddr& dst, int port, std::chrono::milliseconds timeout);

// 200 for "HTTP/1.1 200 OK"; nullopt when the line is not an HTTP status line.
std::optional<int> parse_status_line(const std::string& line);

}  // namespace cpp::health
