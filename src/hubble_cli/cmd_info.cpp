// `hubble status`, `hubble list nodes`, `hubble version`.
#include <iostream>

#include "common/version.h"
#include "hubble_cli/client.h"
#include "hubble_cli/commands.h"
#include "hubble_cli/status_format.h"
#include "hubble_cli/time_arg.h"

namespace cpp::hubble_cli {

std::chrono::milliseconds timeout_of(const GlobalOptions& g) {
  auto d = std::chrono::duration_cast<std::chrono::milliseconds>(parse_duration(g.timeout));
  if (d.count() <= 0) throw std::invalid_argument("invalid --timeout '" + g.timeout + "': must be positive");
  return d;
}

void add_status_command(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("status", "Show the Hubble server's status: flows stored, flow rate, nodes");
  cmd->callback([&g] {
    ObserverClient client(g.server, timeout_of(g));
    std::cout << format_status(client.server_status(), g.server);
  });
}

void add_list_command(CLI::App& app, GlobalOptions& g) {
  auto* list = app.add_subcommand("list", "List Hubble objects");
  list->require_subcommand(1);
  auto* nodes = list->add_subcommand("nodes", "List the nodes the server observes");
  nodes->callback([&g] {
    ObserverClient client(g.server, timeout_of(g));
    std::cout << format_nodes(client.get_nodes());
  });
}

void add_version_command(CLI::App& app) {
  app.add_subcommand("version", "Show the hubble CLI version")->callback([] {
    std::cout << "hubble v" << cpp::kVersion << " compiled with C++20 on linux" << std::endl;
  });
}

}  // namespace cpp::hubble_cli
