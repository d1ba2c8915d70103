#pragma once
// remove-cilium-node-taints (upstream): nodes join the cluster tainted
// node.cilium.io/agent-not-ready so that no pod is scheduled before the
// agent can plumb it; the agent removes the taint from its Node once ready.
#include <nlohmann/json.hpp>

#include <string>

#include "store/store.h"

namespace cpp::agent {

inline constexpr const char* kAgentNotReadyTaint = "node.cilium.io/agent-not-ready";

// Drops every taint with key kAgentNotReadyTaint from node's spec.taints
// (and the empty list). False when there was none.
bool drop_agent_not_ready_taint(nlohmann::json& node);

// Removes the taint from the Node `node_name` with an optimistic update.
// True when the Node carries no such taint afterwards (or does not exist:
// nothing to untaint); false when the store failed (the caller retries).
bool remove_agent_not_ready_taint(store::ResourceStore& store, const std::string& node_name);

}  // namespace cpp::agent
