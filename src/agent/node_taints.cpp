#include "agent/node_taints.h"

#include <spdlog/spdlog.h>

namespace cpp::agent {

bool drop_agent_not_ready_taint(nlohmann::json& node) {
  if (!node.contains("spec") || !node["spec"].contains("taints") || !node["spec"]["taints"].is_array()) return false;
  auto& taints = node["spec"]["taints"];
  nlohmann::json kept = nlohmann::json::array();
  for (const auto& t : taints)
    if (!t.is_object() || t.value("key", std::string()) != kAgentNotReadyTaint) kept.push_back(t);
  if (kept.size() == taints.size()) return false;
  if (kept.empty())
    node["spec"].erase("taints");
  else
    taints = std::move(kept);
  return true;
}

bool remove_agent_not_ready_taint(store::ResourceStore& store, const std::string& node_name) {
  try {
    auto r = store.update("Node", "", node_name, [](nlohmann::json& n) { return drop_agent_not_ready_taint(n); });
    if (r && r->outcome != store::PutOutcome::Unchanged) spdlog::info("removed taint {} from Node {}", kAgentNotReadyTaint, node_name);
    return true;
  } catch (const std::exception& e) {
    spdlog::warn("removing taint {} from Node {}: {} (will retry)", kAgentNotReadyTaint, node_name, e.what());
    return false;
  }
}

}  // namespace cpp::agent
