// bgp peers | bgp routes [available|advertised] [AFI SAFI] (agent API,
// upstream's cilium-dbg bgp commands and table columns).
#include <iostream>
#include <stdexcept>

#include "bgp/bgp_format.h"
#include "dbg/context.h"

namespace cpp::dbg {
namespace {

std::string table = "available";
std::vector<std::string> family_args;

}  // namespace

void add_bgp_commands(CLI::App& app, Context& ctx) {
  auto* bgp = app.add_subcommand("bgp", "BGP control plane")->require_subcommand(1);
  auto* peers = bgp->add_subcommand("peers", "BGP sessions: state, uptime, families, route counts");
  peers->add_flag("--json,-o", ctx.json, "print JSON");
  peers->callback([&ctx] {
    auto j = ctx.get("/v1/bgp/peers");
    std::cout << (ctx.json ? j.dump(2) + "\n" : bgp::format_peers(bgp::peers_from_json(j)));
  });
  auto* routes = bgp->add_subcommand("routes", "routes the virtual routers announce (available) or sent (advertised)");
  routes->add_option("TABLE", table, "available or advertised")->check(CLI::IsMember({"available", "advertised"}));
  routes->add_option("FAMILY", family_args, "AFI SAFI, e.g. ipv4 unicast")->expected(0, 2);
  routes->add_flag("--json", ctx.json, "print JSON");
  routes->callback([&ctx] {
    bool advertised = table == "advertised";
    auto j = ctx.get(std::string("/v1/bgp/routes?table=") + (advertised ? "advertised" : "available"));
    bgp::RouteFilter f;
    if (!family_args.empty()) {
      if (family_args.size() != 2) throw std::runtime_error("bgp routes: a family is AFI SAFI, e.g. ipv4 unicast");
      f.family = bgp::parse_family(family_args[0], family_args[1]);
      if (!f.family)
        throw std::runtime_error("bgp routes: unknown family \"" + family_args[0] + " " + family_args[1] +
                                 "\" (ipv4 unicast or ipv6 unicast)");
    }
    auto rs = bgp::filter_routes(bgp::routes_from_json(j), f);
    std::cout << (ctx.json ? bgp::routes_json(rs).dump(2) + "\n" : bgp::format_routes(rs, advertised));
  });
}

}  // namespace cpp::dbg
