#include "bgp/policy_status.h"

#include <algorithm>

namespace cpp::bgp {

std::optional<nlohmann::json> node_status_entry(const std::string& node, const PolicyStatus& status,
                                                const std::vector<PeerStatus>& peers) {
  if (status.state == PolicyState::NotSelected) return std::nullopt;
  nlohmann::json e = {{"name", node}, {"state", to_string(status.state)}};
  if (!status.errors.empty()) e["errors"] = status.errors;
  if (status.state != PolicyState::Applied) return e;
  std::vector<const PeerStatus*> sorted;
  for (const auto& p : peers) sorted.push_back(&p);
  std::sort(sorted.begin(), sorted.end(), [](const PeerStatus* a, const PeerStatus* b) {
    if (a->local_asn != b->local_asn) return a->local_asn < b->local_asn;
    return a->peer_address.str() < b->peer_address.str();
  });
  auto out = nlohmann::json::array();
  for (const auto* p : sorted) {
    nlohmann::json j = {{"peerAddress", p->peer_address.str()},
                        {"peerASN", p->peer_asn},
                        {"localASN", p->local_asn},
                        {"sessionState", to_string(p->state)}};
    if (!p->last_error.empty()) j["lastError"] = p->last_error;
    out.push_back(std::move(j));
  }
  e["peers"] = std::move(out);
  return e;
}

bool set_node_status(nlohmann::json& policy, const std::string& node, const std::optional<nlohmann::json>& entry) {
  nlohmann::json nodes = nlohmann::json::array();
  if (policy.contains("status") && policy["status"].is_object() && policy["status"].contains("nodes") &&
      policy["status"]["nodes"].is_array())
    nodes = policy["status"]["nodes"];
  auto name = [](const nlohmann::json& n) { return n.is_object() ? n.value("name", "") : std::string(); };
  nlohmann::json updated = nlohmann::json::array();
  for (const auto& n : nodes)
    if (name(n) != node) updated.push_back(n);
  if (entry) updated.push_back(*entry);
  std::stable_sort(updated.begin(), updated.end(),
                   [&](const nlohmann::json& a, const nlohmann::json& b) { return name(a) < name(b); });
  if (updated == nodes) return false;
  if (!policy.contains("status") || !policy["status"].is_object()) policy["status"] = nlohmann::json::object();
  if (updated.empty())
    policy["status"].erase("nodes");
  else
    policy["status"]["nodes"] = std::move(updated);
  if (policy["status"].empty()) policy.erase("status");
  return true;
}

}  // namespace cpp::bgp
