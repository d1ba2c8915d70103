// cilium-dbg: inspect and drive a running agent and its pinned maps.
#include "api/agent_cli.h"
#include "common/version.h"
#include "dbg/cmd_monitor.h"
#include "dbg/context.h"

int main(int argc, char** argv) {
  CLI::App app{"ciliumpp debug CLI"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("cilium-dbg ") + cpp::kVersion);
  cpp::dbg::Context ctx;
  std::string output;
  cpp::api::add_agent_options(app, ctx.host, output);
  app.parse_complete_callback([&] { ctx.json = ctx.json || output == "json"; });
  cpp::dbg::add_status_commands(app, ctx);
  cpp::dbg::add_endpoint_commands(app, ctx);
  cpp::dbg::add_map_commands(app, ctx);
  cpp::dbg::add_policy_commands(app, ctx);
  cpp::dbg::add_service_commands(app, ctx);
  cpp::dbg::add_bgp_commands(app, ctx);
  cpp::dbg::add_monitor_command(app, ctx);
  return cpp::api::run_cli(app, argc, argv);
}
