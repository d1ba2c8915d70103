#pragma once
// The `hubble` subcommands. Each adds itself to the app; its callback
// prints to stdout and throws (std::exception) with the message for stderr.
#include <chrono>
#include <string>

#include <CLI/CLI.hpp>

namespace cpp::hubble_cli {

// What every command needs: where the server is and how long to wait for it.
struct GlobalOptions {
  std::string server = "unix:///var/run/cilium/hubble.sock";
  std::string timeout = "5s";
};

// --timeout ("5s") as a duration; throws std::invalid_argument.
std::chrono::milliseconds timeout_of(const GlobalOptions& g);

void add_observe_command(CLI::App& app, GlobalOptions& g);
void add_status_command(CLI::App& app, GlobalOptions& g);
void add_list_command(CLI::App& app, GlobalOptions& g);
void add_version_command(CLI::App& app);

}  // namespace cpp::hubble_cli
