#pragma once
// `hubble status` and `hubble list nodes` texts, in upstream's shape:
//   Healthcheck (via unix:///var/run/cilium/hubble.sock): Ok
//   Current/Max Flows: 12/4,095 (0.29%)
//   Flows/s: 3.51
//   Connected Nodes: 1/1
#include <cstdint>
#include <string>

#include "observer/observer.pb.h"

namespace cpp::hubble_cli {

std::string thousands(uint64_t n);         // 4095 → "4,095"
std::string go_duration(uint64_t ns);      // 3723e9 → "1h2m3s", as Go rounds to seconds
// The first line, from the grpc.health.v1 check: status "Ok" or "Unavailable: NOT_SERVING".
std::string format_healthcheck(const std::string& server, const std::string& status);
// The lines after it, from ServerStatus.
std::string format_server_status(const observer::ServerStatusResponse& s);
std::string format_nodes(const observer::GetNodesResponse& n);

}  // namespace cpp::hubble_cli
