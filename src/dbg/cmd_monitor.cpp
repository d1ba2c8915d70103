// `cilium-dbg monitor`: follows GetFlows on the agent's Hubble socket and
// prints each drop / trace / policy verdict as a monitor line (or JSON).
#include "dbg/cmd_monitor.h"

#include <iostream>

#include "hubble_cli/client.h"
#include "hubble_cli/flow_printer.h"
#include "hubble_cli/monitor_format.h"
#include "hubble_cli/names.h"

namespace cpp::dbg {

namespace {

constexpr const char* kDefaultHubbleSocket = "/var/run/cilium/hubble.sock";

struct MonitorFlags {
  std::string socket;
  std::vector<std::string> types;
  std::optional<uint32_t> related_to;
  bool json = false;
  bool verbose = false;
};

// The agent's configured hubble-socket-path; the upstream default when the
// agent cannot be asked or leaves it unset.
std::string agent_hubble_socket(const Context& ctx) {
  try {
    auto cfg = ctx.get("/v1/config");
    if (cfg.contains("hubble-socket-path") && cfg["hubble-socket-path"].is_string()) {
      auto path = cfg["hubble-socket-path"].get<std::string>();
      if (!path.empty()) return path;
    }
  } catch (const std::exception&) {
  }
  return kDefaultHubbleSocket;
}

observer::GetFlowsRequest monitor_request(const std::vector<std::string>& types) {
  observer::GetFlowsRequest req;
  req.set_follow(true);
  if (types.empty()) return req;
  auto* f = req.add_whitelist();
  for (const auto& t : types) {
    auto type = hubble_cli::event_type_by_name(t);
    if (!type) throw std::invalid_argument("invalid --type '" + t + "': expected drop, trace, policy-verdict or trace-sock");
    f->add_event_type()->set_type(*type);
  }
  return req;
}

void print(const observer::GetFlowsResponse& r, const MonitorFlags& flags, hubble_cli::FlowPrinter& verbose) {
  if (r.has_lost_events()) {
    const auto& l = r.lost_events();
    if (flags.json) std::cout << hubble_cli::to_json_line(r) << std::endl;
    else std::cout << "Lost " << l.num_events_lost() << " events (" << flow::LostEventSource_Name(l.source()) << ")"
                   << std::endl;
    return;
  }
  if (!r.has_flow()) return;
  if (flags.related_to && !hubble_cli::related_to(r.flow(), *flags.related_to)) return;
  if (flags.json) {
    std::cout << hubble_cli::to_json_line(r) << std::endl;
    return;
  }
  std::string line = hubble_cli::monitor_line(r.flow());
  if (line.empty()) return;
  std::cout << line << std::endl;
  if (flags.verbose) verbose.write(r);
}

}  // namespace

void add_monitor_command(CLI::App& app, Context& ctx) {
  auto flags = std::make_shared<MonitorFlags>();
  auto* cmd = app.add_subcommand("monitor", "Show live drop, trace and policy-verdict events (via Hubble)");
  cmd->add_option("--hubble-socket", flags->socket,
                  "Hubble Observer socket (default: the agent's hubble-socket-path, else /var/run/cilium/hubble.sock)");
  cmd->add_option("-t,--type", flags->types, "only these event types: drop, trace, policy-verdict, trace-sock (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--related-to", flags->related_to, "only events to or from this endpoint ID");
  cmd->add_flag("-j,--json", flags->json, "one JSON GetFlowsResponse per line");
  cmd->add_flag("-v,--verbose", flags->verbose, "also print each flow with pods, identities and policy");
  cmd->callback([flags, &ctx] {
    flags->json = flags->json || ctx.json;
    auto req = monitor_request(flags->types);
    std::string socket = flags->socket.empty() ? agent_hubble_socket(ctx) : flags->socket;
    // Before gRPC starts threads, so Ctrl-C reaches the stream's waiter.
    hubble_cli::block_stop_signals();
    hubble_cli::ObserverClient client(socket, std::chrono::seconds(5));
    if (!flags->json) std::cout << "Listening for events on " << client.server() << "\nPress Ctrl-C to quit" << std::endl;
    hubble_cli::FlowPrinter verbose(std::cout, {hubble_cli::OutputFormat::Compact, true});
    client.stream_flows(req, [&](const observer::GetFlowsResponse& r) { print(r, *flags, verbose); });
  });
}

}  // namespace cpp::dbg
