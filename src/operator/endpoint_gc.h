#pragma once
// Stale CiliumEndpoint GC: an endpoint object whose node
// (status.networking.node: the node's InternalIP, or its name) matches no
// CiliumNode is deleted once it was found stale on two consecutive passes,
// so a node that is just registering is not mistaken for a gone one.
#include <nlohmann/json.hpp>

#include <set>
#include <string>
#include <vector>

#include "store/store.h"

namespace cpp::op {

class EndpointGc {
 public:
  // "ns/name" of the endpoints to delete now (pure; remembers this pass's
  // stale set for the next one).
  std::vector<std::string> pass(const std::vector<nlohmann::json>& endpoints, const std::vector<nlohmann::json>& nodes);
  // Lists, decides and deletes; returns how many were deleted.
  size_t run(store::ResourceStore& store);

 private:
  std::set<std::string> stale_before_;
};

}  // namespace cpp::op
