#include "operator/endpoint_gc.h"

#include <map>

#include "common/log.h"
#include "ipam/cilium_node.h"

namespace cpp::op {

std::vector<std::string> EndpointGc::pass(const std::vector<nlohmann::json>& endpoints,
                                          const std::vector<nlohmann::json>& nodes) {
  std::set<std::string> live;
  for (const auto& n : nodes) {
    live.insert(n["metadata"].value("name", ""));
    for (const auto& a : ipam::node_addresses(n, "InternalIP")) live.insert(a.str());
  }
  std::set<std::string> stale;
  std::vector<std::string> out;
  for (const auto& ep : endpoints) {
    std::string node;
    try {
      node = ep.at("status").at("networking").value("node", "");
    } catch (const std::exception&) {
      continue;
    }
    if (node.empty() || live.count(node)) continue;
    std::string id = ep["metadata"].value("namespace", "default") + "/" + ep["metadata"].value("name", "");
    stale.insert(id);
    if (stale_before_.count(id)) out.push_back(id);
  }
  stale_before_ = std::move(stale);
  return out;
}

size_t EndpointGc::run(store::ResourceStore& store) {
  size_t n = 0;
  auto endpoints = store.list("CiliumEndpoint");
  std::map<std::string, std::string> versions;
  for (const auto& ep : endpoints)
    versions[ep["metadata"].value("namespace", "default") + "/" + ep["metadata"].value("name", "")] =
        ep["metadata"].value("resourceVersion", "");
  for (const auto& id : pass(endpoints, store.list("CiliumNode"))) {
    auto slash = id.find('/');
    // A pod started again on a live node since the list keeps its new endpoint.
    if (store.remove_version("CiliumEndpoint", id.substr(0, slash), id.substr(slash + 1), versions[id])) {
      spdlog::info("endpoint GC: deleted CiliumEndpoint {}: its node is gone", id);
      ++n;
    }
  }
  return n;
}

}  // namespace cpp::op
