// cilium-dbg: inspect and drive a running agent and its pinned maps.
#include <iostream>

#include "dbg/context.h"

int main(int argc, char** argv) {
  CLI::App app{"ciliumpp debug CLI"};
  app.require_subcommand(1);
  cpp::dbg::Context ctx;
  std::string output;
  app.add_option("-H,--host", ctx.host, "agent API socket (unix:///path or /path)")->envname("CILIUM_SOCK");
  app.add_option("-o,--output", output, "output format: json")->check(CLI::IsMember({"", "json"}));
  app.parse_complete_callback([&] { ctx.json = ctx.json || output == "json"; });
  cpp::dbg::add_status_commands(app, ctx);
  cpp::dbg::add_endpoint_commands(app, ctx);
  cpp::dbg::add_map_commands(app, ctx);
  cpp::dbg::add_policy_commands(app, ctx);
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
