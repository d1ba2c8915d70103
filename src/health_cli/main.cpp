// cilium-health: the node health view of a running agent (its unix socket).
//   status   last probe round: reachability and latency per node
//   ping     runs a probe round now and prints its result
// Exit status 1 when the agent cannot be reached or answers with an error.
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "api/agent_cli.h"
#include "api/agent_client.h"
#include "health/format.h"
#include "health/report.h"

namespace {

struct Options {
  std::string socket = "/var/run/cilium/cilium.sock";
  std::string output;
  bool verbose = false;
};

nlohmann::json call(const Options& o, const std::string& method, const std::string& path) {
  try {
    // A probe round waits for probe timeouts: give the agent time.
    return cpp::api::call_agent(o.socket, method, path, "", 60000);
  } catch (const cpp::api::AgentError& e) {
    throw std::runtime_error(std::string("agent: ") + e.what());
  }
}

void print(const Options& o, const nlohmann::json& j) {
  if (o.output == "json") {
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::cout << cpp::health::format_status(cpp::health::report_from_json(j), o.verbose);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cilium-health: cluster connectivity as seen from this node"};
  app.require_subcommand(1);
  // `cilium-health status -o json --socket PATH`: global options after the subcommand too.
  app.fallthrough();
  Options o;
  cpp::api::add_agent_options(app, o.socket, o.output, "-H,--host,--socket");
  auto* status = app.add_subcommand("status", "show the last probe round");
  status->add_flag("--verbose", o.verbose, "also show secondary addresses");
  status->callback([&] { print(o, call(o, "GET", "/v1/health/status")); });
  auto* ping = app.add_subcommand("ping", "probe all nodes now and show the result");
  ping->add_flag("--verbose", o.verbose, "also show secondary addresses");
  ping->callback([&] { print(o, call(o, "POST", "/v1/health/probe")); });
  return cpp::api::run_cli(app, argc, argv);
}
