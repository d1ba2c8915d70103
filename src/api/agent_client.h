#pragma once
// How the agent's CLIs (cilium-dbg, cilium-health) call its JSON API.
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace cpp::api {

// The agent answered with an error status; what() is its "error" field, or
// the whole body when it has none.
struct AgentError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// method path (with body) on the agent socket ("unix:///path" or "/path");
// the parsed JSON answer. Throws AgentError, or std::runtime_error when the
// agent cannot be reached or its answer is not JSON.
nlohmann::json call_agent(const std::string& socket, const std::string& method, const std::string& path,
                          const std::string& body = "", int timeout_ms = 30000);

}  // namespace cpp::api
