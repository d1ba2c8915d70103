#pragma once
#include <atomic>

#include "config/agent_config.h"

namespace cpp::agent {

// Brings the node up in dependency order (IPAM → maps → devices → host
// program → restored endpoints → API → CNI config) and serves until `stop`
// becomes true. Leaves devices, programs and pinned maps in place on exit:
// pods keep their connectivity while the agent restarts.
int run_daemon(const config::AgentConfig& cfg, const std::atomic<bool>& stop);

}  // namespace cpp::agent
