#pragma once
// What the agent's CLIs (cilium-dbg, cilium-health) share on the command
// line. Header-only: only those binaries link CLI11.
#include <exception>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

namespace cpp::api {

// The agent socket (option names `socket_names`, or $CILIUM_SOCK) and
// -o/--output, which accepts "json" anywhere on the command line. Call it
// before adding subcommands.
inline void add_agent_options(CLI::App& app, std::string& socket, std::string& output,
                              const std::string& socket_names = "-H,--host") {
  app.add_option(socket_names, socket, "agent API socket (unix:///path or /path)")->envname("CILIUM_SOCK");
  app.add_option("-o,--output", output, "output format: json")->check(CLI::IsMember({"", "json"}));
  // Subcommands added later inherit it: `cilium-dbg bgp peers -o json` as upstream writes it.
  app.fallthrough();
}

// Parses argv, which runs the chosen subcommand: CLI11's exit status for a
// usage error, 1 with "Error: <what>" on stderr when the command throws.
inline int run_cli(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::cerr << "Error: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}

}  // namespace cpp::api
