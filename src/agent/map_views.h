#pragma once
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace cpp::agent {

// The node's pinned maps as the API shows them (`cilium-dbg map list|get`).
nlohmann::json list_maps(const std::string& pin_dir);
// Decoded entries of one map; nullopt for an unknown name.
std::optional<nlohmann::json> dump_map(const std::string& pin_dir, const std::string& name);

}  // namespace cpp::agent
