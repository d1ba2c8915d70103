// bgp peers | bgp routes [available|advertised] [AFI SAFI] (agent API,
// upstream's cilium-dbg bgp commands and table columns).
#include <cstdlib>
#include <iostream>
#include <stdexcept>

#include "bgp/bgp_format.h"
#include "dbg/context.h"

namespace cpp::dbg {
namespace {

std::string table = "available";
std::vector<std::string> route_args;

// Upstream's positional filters: AFI SAFI [vrouter ASN] [peer|neighbor ADDRESS].
bgp::RouteFilter route_filter(const std::vector<std::string>& args) {
  bgp::RouteFilter f;
  size_t i = 0;
  if (args.size() >= 2 && args[0] != "vrouter" && args[0] != "peer" && args[0] != "neighbor") {
    f.family = bgp::parse_family(args[0], args[1]);
    if (!f.family)
      throw std::runtime_error("bgp routes: unknown family \"" + args[0] + " " + args[1] +
                               "\" (ipv4 unicast or ipv6 unicast)");
    i = 2;
  }
  for (; i < args.size(); i += 2) {
    if (i + 1 >= args.size()) throw std::runtime_error("bgp routes: \"" + args[i] + "\" needs a value");
    const std::string& key = args[i];
    const std::string& val = args[i + 1];
    if (key == "vrouter") {
      char* end = nullptr;
      unsigned long asn = std::strtoul(val.c_str(), &end, 10);
      if (val.empty() || *end || asn == 0 || asn > 4294967295ul)
        throw std::runtime_error("bgp routes: vrouter \"" + val + "\" is not an ASN");
      f.router_asn = static_cast<uint32_t>(asn);
    } else if (key == "peer" || key == "neighbor") {
      auto ip = IpAddr::parse(val);
      if (!ip) throw std::runtime_error("bgp routes: " + key + " \"" + val + "\" is not an IP address");
      f.peer = *ip;
    } else {
      throw std::runtime_error("bgp routes: unexpected \"" + key +
                               "\" (expected AFI SAFI, vrouter ASN, peer|neighbor ADDRESS)");
    }
  }
  return f;
}

}  // namespace

void add_bgp_commands(CLI::App& app, Context& ctx) {
  auto* bgp = app.add_subcommand("bgp", "BGP control plane")->require_subcommand(1);
  auto* peers = bgp->add_subcommand("peers", "BGP sessions: state, uptime, families, route counts");
  peers->add_flag("--json", ctx.json, "print JSON");
  peers->callback([&ctx] {
    auto j = ctx.get("/v1/bgp/peers");
    std::cout << (ctx.json ? j.dump(2) + "\n" : bgp::format_peers(bgp::peers_from_json(j)));
  });
  auto* routes = bgp->add_subcommand(
      "routes", "routes the virtual routers announce (available) or sent (advertised): "
                "routes <available|advertised> [AFI SAFI] [vrouter ASN] [peer|neighbor ADDRESS]");
  routes->add_option("TABLE", table, "available or advertised")->check(CLI::IsMember({"available", "advertised"}));
  routes->add_option("ARGS", route_args, "AFI SAFI, then optionally vrouter ASN and peer|neighbor ADDRESS");
  routes->add_flag("--json", ctx.json, "print JSON");
  routes->callback([&ctx] {
    bool advertised = table == "advertised";
    auto j = ctx.get(std::string("/v1/bgp/routes?table=") + (advertised ? "advertised" : "available"));
    auto rs = bgp::filter_routes(bgp::routes_from_json(j), route_filter(route_args));
    std::cout << (ctx.json ? bgp::routes_json(rs).dump(2) + "\n" : bgp::format_routes(rs, advertised));
  });
}

}  // namespace cpp::dbg
