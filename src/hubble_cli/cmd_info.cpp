// `hubble status`, `hubble list nodes`, `hubble version`.
#include <iostream>

#include "common/version.h"
#include "hubble_cli/client.h"
#include "hubble_cli/commands.h"
#include "hubble_cli/status_format.h"

namespace cpp::hubble_cli {

void add_status_command(CLI::App& app, GlobalOptions& g) {
  auto* cmd =
      app.add_subcommand("status", "Show the Hubble server's health and status: flows stored, flow rate, nodes");
  cmd->callback([&g] {
    ObserverClient client = connect(g);
    // As upstream: the standard gRPC health check first, then Hubble's own status.
    ObserverClient::Health health;
    try {
      health = client.health_check();
    } catch (const ServerError& e) {
      throw std::runtime_error(std::string("failed getting status: ") + e.what());
    }
    std::cout << format_healthcheck(g.server, health.status) << std::flush;
    if (!health.serving) throw std::runtime_error("not healthy");
    std::cout << format_server_status(client.server_status());
  });
}

void add_list_command(CLI::App& app, GlobalOptions& g) {
  auto* list = app.add_subcommand("list", "List Hubble objects");
  list->require_subcommand(1);
  auto* nodes = list->add_subcommand("nodes", "List the nodes the server observes");
  nodes->callback([&g] {
    ObserverClient client = connect(g);
    std::cout << format_nodes(client.get_nodes());
  });
}

void add_version_command(CLI::App& app) {
  app.add_subcommand("version", "Show the hubble CLI version")->callback([] {
    std::cout << "hubble v" << cpp::kVersion << " compiled with C++20 on linux" << std::endl;
  });
}

}  // namespace cpp::hubble_cli
