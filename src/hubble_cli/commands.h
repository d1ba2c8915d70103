#pragma once
// The `hubble` subcommands. Each adds itself to the app; its callback
// prints to stdout and throws (std::exception) with the message for stderr.
#include <chrono>
#include <map>
#include <string>

#include <CLI/CLI.hpp>

#include "hubble_cli/tls_options.h"

namespace cpp::hubble_cli {

// What every command needs: where the server is, how long to wait for it
// and how to speak TLS to it.
struct GlobalOptions {
  std::string server = "unix:///var/run/cilium/hubble.sock";
  std::string timeout = "5s";
  TlsFlags tls;
  std::string config;  // --config; empty: the default path (config_file.h)
  // Option name → its CLI11 option, to tell what the command line or the
  // environment set from what the config file may fill in.
  std::map<std::string, const CLI::Option*> given;
};

class ObserverClient;

// --config, --server, --timeout and the --tls* options (with their HUBBLE_*
// variables) on `app`; subcommands see them through fallthrough, before or
// after their name.
void add_connection_flags(CLI::App& app, GlobalOptions& g);
// Fills g from the config file, then connects (ObserverClient's errors).
ObserverClient connect(GlobalOptions& g);

// --timeout ("5s") as a duration; throws std::invalid_argument.
std::chrono::milliseconds timeout_of(const GlobalOptions& g);

void add_observe_command(CLI::App& app, GlobalOptions& g);
void add_status_command(CLI::App& app, GlobalOptions& g);
void add_list_command(CLI::App& app, GlobalOptions& g);
void add_version_command(CLI::App& app);

}  // namespace cpp::hubble_cli
