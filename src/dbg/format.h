#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cpp::dbg {

// Left-aligned columns separated by at least two spaces, as upstream's
// tabwriter output.
std::string render_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);

// The text forms of upstream cilium-dbg commands, from the agent's JSON.
// `health` is the agent's GET /v1/health/status, when it answered.
// verbose adds upstream's `status --verbose` details: kube-proxy replacement,
// Hubble's buffers and lost events, metrics, policy revision.
std::string format_status(const nlohmann::json& status, const std::optional<nlohmann::json>& health = std::nullopt,
                          bool verbose = false);
std::string format_endpoint_list(const nlohmann::json& endpoints);
std::string format_bpf_endpoint_list(const nlohmann::json& entries);
std::string format_map_list(const nlohmann::json& maps);
std::string format_identity_list(const nlohmann::json& identities);
// Policy map entries of one endpoint (datapath::policy_entries_to_json), as upstream's table.
std::string format_bpf_policy(const nlohmann::json& entries);
// `service list`: upstream's ID / Frontend / Service Type / Backend table,
// one line per backend ("1 => 10.0.0.1:80/TCP (active)").
std::string format_service_list(const nlohmann::json& services);

}  // namespace cpp::dbg
