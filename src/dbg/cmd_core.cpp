// status, endpoint and map commands.
#include <iostream>
#include <stdexcept>

#include "datapath/conntrack_map.h"
#include "datapath/endpoint_map.h"
#include "datapath/ipcache_map.h"
#include "datapath/map_json.h"
#include "datapath/nat_map.h"
#include "dbg/context.h"
#include "dbg/format.h"

namespace cpp::dbg {

namespace {
void print(const Context& ctx, const nlohmann::json& j, const std::string& text) {
  std::cout << (ctx.json ? j.dump(2) + "\n" : text);
}
}  // namespace

void add_status_commands(CLI::App& app, Context& ctx) {
  auto* status = app.add_subcommand("status", "agent status");
  status->add_flag("--json", ctx.json, "print JSON");
  static bool verbose = false;
  status->add_flag("--verbose", verbose, "details: kube-proxy replacement, Hubble, metrics, policy revision");
  status->callback([&ctx] {
    auto s = ctx.get("/v1/status");
    if (ctx.json) {
      print(ctx, s, "");
      return;
    }
    // Health checking may be off (404): the line is then left out.
    std::optional<nlohmann::json> health;
    try {
      health = ctx.get("/v1/health/status");
    } catch (const std::exception&) {
    }
    print(ctx, s, format_status(s, health, verbose));
  });
}

void add_endpoint_commands(CLI::App& app, Context& ctx) {
  auto* ep = app.add_subcommand("endpoint", "endpoints")->require_subcommand(1);
  auto* list = ep->add_subcommand("list", "list endpoints");
  list->add_flag("--json", ctx.json, "print JSON");
  list->callback([&ctx] {
    auto l = ctx.get("/v1/endpoint");
    print(ctx, l, format_endpoint_list(l));
  });
  static std::string id;
  auto* get = ep->add_subcommand("get", "one endpoint as JSON");
  get->add_option("ID", id, "endpoint id or container-id:<id>")->required();
  get->callback([&ctx] { std::cout << ctx.get("/v1/endpoint/" + id).dump(2) << "\n"; });
}

void add_map_commands(CLI::App& app, Context& ctx) {
  auto* bpf = app.add_subcommand("bpf", "datapath maps")->require_subcommand(1);
  auto* bpf_ep = bpf->add_subcommand("endpoint", "local endpoint map")->require_subcommand(1);
  auto* bpf_ep_list = bpf_ep->add_subcommand("list", "list the local endpoint map");
  bpf_ep_list->add_flag("--json", ctx.json, "print JSON");
  // Pinned maps are read directly, as upstream does: only the pin directory
  // comes from the agent.
  bpf_ep_list->callback([&ctx] {
    auto entries = datapath::endpoint_map_to_json(datapath::EndpointMap(ctx.pin_dir()).dump());
    print(ctx, entries, format_bpf_endpoint_list(entries));
  });
  auto* bpf_ipc = bpf->add_subcommand("ipcache", "ipcache map")->require_subcommand(1);
  auto* bpf_ipc_list = bpf_ipc->add_subcommand("list", "list the ipcache map");
  bpf_ipc_list->callback([&ctx] {
    std::cout << datapath::ipcache_to_json(datapath::IpcacheMap(ctx.pin_dir()).dump()).dump(2) << "\n";
  });

  auto* bpf_ct = bpf->add_subcommand("ct", "connection tracking")->require_subcommand(1);
  auto* bpf_ct_list = bpf_ct->add_subcommand("list", "list connection tracking entries");
  static std::string ct_scope = "global";
  bpf_ct_list->add_option("SCOPE", ct_scope, "global (the node's table)")->check(CLI::IsMember({"global"}));
  bpf_ct_list->add_flag("--json", ctx.json, "print JSON");
  bpf_ct_list->callback([&ctx] {
    auto entries = datapath::ConntrackMaps(ctx.pin_dir()).dump(false);
    auto now = datapath::monotonic_now_ns();
    if (ctx.json) {
      std::cout << datapath::ct_to_json(entries, now).dump(2) << "\n";
      return;
    }
    for (const auto& e : entries) std::cout << datapath::ct_entry_to_text(e, now) << "\n";
  });

  auto* bpf_ct_flush = bpf_ct->add_subcommand("flush", "remove connection tracking entries");
  static std::string flush_scope;
  bpf_ct_flush->add_option("SCOPE", flush_scope, "global, or an endpoint ID")->required();
  bpf_ct_flush->callback([&ctx] {
    datapath::ConntrackMaps maps(ctx.pin_dir());
    size_t n = 0;
    if (flush_scope == "global") {
      n = maps.flush_all();
    } else {
      unsigned long id = 0;
      size_t used = 0;
      try {
        id = std::stoul(flush_scope, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != flush_scope.size() || id == 0 || id > 0xffff)
        throw std::runtime_error("bpf ct flush: \"" + flush_scope + "\" is neither \"global\" nor an endpoint ID");
      n = maps.flush_endpoint(static_cast<uint16_t>(id));
    }
    std::cout << "Flushed " << n << " entries from the connection tracking maps\n";
  });

  auto* bpf_nat = bpf->add_subcommand("nat", "masquerading (SNAT) entries")->require_subcommand(1);
  auto* bpf_nat_list = bpf_nat->add_subcommand("list", "list NAT entries, both directions");
  bpf_nat_list->add_flag("--json", ctx.json, "print JSON");
  bpf_nat_list->callback([&ctx] {
    if (!datapath::nat_maps_exist(ctx.pin_dir()))
      throw std::runtime_error("no NAT maps in " + ctx.pin_dir() + ": masquerading is not enabled on this node");
    auto entries = datapath::NatMaps(ctx.pin_dir()).dump(false);
    auto now = datapath::monotonic_now_ns();
    if (ctx.json) {
      std::cout << datapath::nat_to_json(entries, now).dump(2) << "\n";
      return;
    }
    for (const auto& e : entries) std::cout << datapath::nat_entry_to_text(e, now) << "\n";
  });

  auto* map = app.add_subcommand("map", "pinned maps")->require_subcommand(1);
  auto* list = map->add_subcommand("list", "list maps");
  list->add_flag("--json", ctx.json, "print JSON");
  list->callback([&ctx] {
    auto l = ctx.get("/v1/map");
    print(ctx, l, format_map_list(l));
  });
  static std::string name;
  auto* get = map->add_subcommand("get", "entries of one map");
  get->add_option("NAME", name, "map name, e.g. cpp_lxc")->required();
  get->callback([&ctx] { std::cout << ctx.get("/v1/map/" + name).dump(2) << "\n"; });
}

}  // namespace cpp::dbg
