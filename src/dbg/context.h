#pragma once
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "api/agent_client.h"

namespace cpp::dbg {

// What every command needs: the agent's API and the output format.
struct Context {
  std::string host = "unix:///var/run/cilium/cilium.sock";
  bool json = false;

  nlohmann::json call(const std::string& method, const std::string& path, const std::string& body = "") const;
  nlohmann::json get(const std::string& path) const { return call("GET", path); }
  std::string pin_dir() const { return get("/v1/status")["pin-dir"].get<std::string>(); }
};

// Each adds its subcommands to the app; their callbacks print to stdout and
// throw std::runtime_error with the message for stderr.
void add_status_commands(CLI::App& app, Context& ctx);
void add_endpoint_commands(CLI::App& app, Context& ctx);
void add_map_commands(CLI::App& app, Context& ctx);
void add_policy_commands(CLI::App& app, Context& ctx);
void add_service_commands(CLI::App& app, Context& ctx);  // after add_map_commands (uses `bpf`)
void add_bgp_commands(CLI::App& app, Context& ctx);

}  // namespace cpp::dbg
