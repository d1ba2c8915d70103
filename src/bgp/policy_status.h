#pragma once
// What each node writes into a CiliumBGPPeeringPolicy's status: upstream
// v2alpha1 has no status at all, so a user learns of a refused policy or a
// failing session only from agent logs. Here every node the policy concerns
// owns one entry of `status.nodes` (its state, the errors it found, and each
// of its sessions' state and last error); the agents of several nodes write
// their own entries with ResourceStore::update. Pure.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bgp/peering_policy.h"
#include "bgp/speaker.h"

namespace cpp::bgp {

// The node's entry: {"name", "state", "errors" (when any), "peers" (for an
// Applied policy: peerAddress, peerASN, localASN, sessionState, lastError
// when any, sorted by local ASN then address)}. nullopt when the policy does
// not select the node: it has nothing to say there.
std::optional<nlohmann::json> node_status_entry(const std::string& node, const PolicyStatus& status,
                                                const std::vector<PeerStatus>& peers);

// Sets (or, for nullopt, removes) `node`'s entry in policy.status.nodes,
// keeping the list sorted by name and the other nodes' entries as they are.
// false when the object already said exactly that.
bool set_node_status(nlohmann::json& policy, const std::string& node, const std::optional<nlohmann::json>& entry);

}  // namespace cpp::bgp
