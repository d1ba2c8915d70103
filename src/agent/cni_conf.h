#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace cpp::agent {

// The conflist upstream Cilium writes to write-cni-conf-when-ready, plus the
// agent's socket path so several agents (lab nodes) can share one machine.
nlohmann::json make_cni_conflist(const std::string& socket_path, const std::string& log_file);
void write_cni_conflist(const std::string& path, const nlohmann::json& conflist);

}  // namespace cpp::agent
