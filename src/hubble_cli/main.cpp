// hubble: the Hubble CLI — observe flows, server status and nodes over the
// Observer gRPC API of a ciliumpp agent (or anything speaking it).
#include <iostream>

#include "hubble_cli/client.h"
#include "hubble_cli/commands.h"

int main(int argc, char** argv) {
  using namespace cpp::hubble_cli;
  // Before gRPC starts threads: stop signals are waited for, not delivered.
  block_stop_signals();
  quiet_grpc_logging();
  CLI::App app{"hubble: observe network flows of a ciliumpp node"};
  app.require_subcommand(1);
  app.fallthrough();
  GlobalOptions g;
  add_connection_flags(app, g);
  add_observe_command(app, g);
  add_status_command(app, g);
  add_list_command(app, g);
  add_version_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "Error: " << e.what() << "\nRun 'hubble --help' for usage." << std::endl;
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "Error: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
