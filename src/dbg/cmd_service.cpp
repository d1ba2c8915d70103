// service list|get|update|delete (agent API) and `bpf lb list` (pinned maps).
#include <iostream>
#include <stdexcept>

#include "datapath/conntrack_map.h"
#include "datapath/lb_ct_map.h"
#include "datapath/lb_map.h"
#include "dbg/context.h"
#include "dbg/format.h"

namespace cpp::dbg {
namespace {

struct UpdateArgs {
  unsigned id = 0;
  std::string frontend, protocol = "TCP", traffic_policy, ext_policy, int_policy;
  std::vector<std::string> backends, states;
  bool node_port = false, external = false, load_balancer = false, cluster_internal = false;
} update_args;

std::string id_arg, output;
bool delete_all = false;

void add_output(CLI::App* cmd, Context& ctx) {
  cmd->add_flag("--json", ctx.json, "print JSON");
  cmd->add_option("-o,--output", output, "output format: json")->check(CLI::IsMember({"", "json"}));
}

bool want_json(const Context& ctx) { return ctx.json || output == "json"; }

// "10.0.0.1:80", "[fd00::1]:80" -> {"ip", "port"}; the agent validates the values.
nlohmann::json l4_of(const std::string& s, const std::string& what) {
  std::string ip, port;
  if (!s.empty() && s[0] == '[') {
    auto close = s.find("]:");
    if (close == std::string::npos) throw std::runtime_error(what + ": \"" + s + "\" is not [IPv6]:PORT");
    ip = s.substr(1, close - 1);
    port = s.substr(close + 2);
  } else {
    auto colon = s.rfind(':');
    if (colon == std::string::npos) throw std::runtime_error(what + ": \"" + s + "\" is not IP:PORT");
    ip = s.substr(0, colon);
    port = s.substr(colon + 1);
  }
  if (port.empty() || port.size() > 9 || port.find_first_not_of("0123456789") != std::string::npos)
    throw std::runtime_error(what + ": port \"" + port + "\" of \"" + s + "\" is not a number");
  return {{"ip", ip}, {"port", std::stol(port)}};
}

nlohmann::json update_body() {
  const auto& a = update_args;
  if (a.frontend.empty()) throw std::runtime_error("--frontend is required (IP:PORT)");
  nlohmann::json fe = l4_of(a.frontend, "--frontend");
  fe["protocol"] = a.protocol;
  fe["scope"] = a.cluster_internal ? "internal" : "external";
  nlohmann::json bes = nlohmann::json::array();
  if (!a.states.empty() && a.states.size() != a.backends.size())
    throw std::runtime_error("--states must name one state per backend (" + std::to_string(a.backends.size()) + ")");
  for (size_t i = 0; i < a.backends.size(); ++i) {
    auto b = l4_of(a.backends[i], "--backends");
    if (!a.states.empty()) b["state"] = a.states[i];
    bes.push_back(b);
  }
  int types = a.node_port + a.external + a.load_balancer;
  if (types > 1) throw std::runtime_error("give at most one of --k8s-node-port, --k8s-external, --k8s-load-balancer");
  std::string type = a.node_port ? "NodePort" : a.external ? "ExternalIPs" : a.load_balancer ? "LoadBalancer" : "ClusterIP";
  nlohmann::json flags{{"type", type}};
  if (!a.traffic_policy.empty()) flags["trafficPolicy"] = a.traffic_policy;
  if (!a.ext_policy.empty()) flags["extTrafficPolicy"] = a.ext_policy;
  if (!a.int_policy.empty()) flags["intTrafficPolicy"] = a.int_policy;
  return {{"id", a.id}, {"frontend-address", fe}, {"backend-addresses", bes}, {"flags", flags}};
}

}  // namespace

void add_service_commands(CLI::App& app, Context& ctx) {
  auto* svc = app.add_subcommand("service", "Manage services & loadbalancers")->require_subcommand(1);

  auto* list = svc->add_subcommand("list", "List services");
  add_output(list, ctx);
  list->callback([&ctx] {
    auto l = ctx.get("/v1/service");
    std::cout << (want_json(ctx) ? l.dump(2) + "\n" : format_service_list(l));
  });

  auto* get = svc->add_subcommand("get", "Display service information");
  get->add_option("ID", id_arg, "service id")->required();
  add_output(get, ctx);
  get->callback([&ctx] {
    auto s = ctx.get("/v1/service/" + id_arg);
    std::cout << (want_json(ctx) ? s.dump(2) + "\n" : format_service_list(nlohmann::json::array({s})));
  });

  auto* upd = svc->add_subcommand("update", "Update a service");
  auto& a = update_args;
  upd->add_option("--id", a.id, "Identifier")->required();
  upd->add_option("--frontend", a.frontend, "Frontend address (IP:PORT)")->required();
  upd->add_option("--backends", a.backends, "Backend address or addresses (<IP:Port>)")->delimiter(',');
  upd->add_option("--states", a.states, "Backend state(s) as {active(default),terminating}")->delimiter(',');
  upd->add_option("--protocol", a.protocol, "Protocol for service (e.g. TCP, UDP)");
  upd->add_flag("--k8s-node-port", a.node_port, "Set service as a k8s NodePort");
  upd->add_flag("--k8s-external", a.external, "Set service as a k8s ExternalIPs");
  upd->add_flag("--k8s-load-balancer", a.load_balancer, "Set service as a k8s LoadBalancer");
  upd->add_flag("--k8s-cluster-internal", a.cluster_internal, "Set service as cluster-internal (internal scope only)");
  upd->add_option("--k8s-traffic-policy", a.traffic_policy, "Set service with k8s traffic policy (Cluster, Local)");
  upd->add_option("--k8s-ext-traffic-policy", a.ext_policy, "Set service with k8s external traffic policy");
  upd->add_option("--k8s-int-traffic-policy", a.int_policy, "Set service with k8s internal traffic policy");
  upd->callback([&ctx] {
    auto body = update_body();
    auto s = ctx.call("PUT", "/v1/service/" + std::to_string(update_args.id), body.dump());
    std::cout << "Added service with " << body["backend-addresses"].size() << " backends\n";
    (void)s;
  });

  auto* del = svc->add_subcommand("delete", "Delete a service");
  del->add_option("ID", id_arg, "service id");
  del->add_flag("--all", delete_all, "Delete all services created through the API");
  del->callback([&ctx] {
    if (delete_all) {
      size_t n = 0;
      for (const auto& s : ctx.get("/v1/service")) {
        std::string id = std::to_string(s["spec"]["id"].get<int>());
        try {
          ctx.call("DELETE", "/v1/service/" + id);
          ++n;
        } catch (const api::AgentError&) {
          // Kubernetes services and companions of deleted ones: not ours to delete.
        }
      }
      std::cout << "Deleted " << n << " services\n";
      return;
    }
    if (id_arg.empty()) throw std::runtime_error("give a service id or --all");
    ctx.call("DELETE", "/v1/service/" + id_arg);
    std::cout << "Service " << id_arg << " deleted successfully\n";
  });

  auto* bpf = app.get_subcommand("bpf");
  auto* lb = bpf->add_subcommand("lb", "Load-balancing configuration")->require_subcommand(1);
  auto* lb_list = lb->add_subcommand("list", "List load-balancing configuration (cpp_lb_svc, cpp_lb_be)");
  add_output(lb_list, ctx);
  lb_list->callback([&ctx] {
    std::string pin = ctx.pin_dir();
    if (!datapath::lb_maps_exist(pin)) throw std::runtime_error("no load-balancing maps in " + pin);
    auto snap = datapath::BpfLbMaps(pin).read();
    std::cout << (want_json(ctx) ? datapath::lb_snapshot_to_json(snap).dump(2) + "\n"
                                 : datapath::lb_snapshot_to_text(snap));
  });

  auto* ct = lb->add_subcommand("ct", "Per-packet service translations (cpp_lb_ct4/6)")->require_subcommand(1);
  auto* ct_list = ct->add_subcommand("list", "List SVC (client -> backend) and REV (reply -> frontend) entries");
  add_output(ct_list, ctx);
  ct_list->callback([&ctx] {
    auto entries = datapath::dump_lb_ct(ctx.pin_dir());
    auto now = datapath::monotonic_now_ns();
    if (want_json(ctx)) {
      std::cout << datapath::lb_ct_to_json(entries, now).dump(2) << "\n";
      return;
    }
    for (const auto& e : entries) std::cout << datapath::lb_ct_entry_to_text(e, now) << "\n";
  });

  auto* mg = lb->add_subcommand("maglev", "Maglev lookup tables (cpp_lb_maglev)")->require_subcommand(1);
  auto* mg_list = mg->add_subcommand("list", "Per service: how many of the table's entries each backend id holds");
  add_output(mg_list, ctx);
  mg_list->callback([&ctx] {
    datapath::BpfLbMaps maps(ctx.pin_dir());
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [id, _] : maps.read().maglev) {
      std::map<uint32_t, size_t> share;
      for (auto be : maps.maglev_table(id)) ++share[be];
      nlohmann::json j = nlohmann::json::object();
      for (const auto& [be, n] : share) j[std::to_string(be)] = n;
      out[std::to_string(id)] = j;
    }
    if (want_json(ctx)) {
      std::cout << out.dump(2) << "\n";
      return;
    }
    for (const auto& [id, share] : out.items()) {
      std::cout << id << "\t";
      for (const auto& [be, n] : share.items()) std::cout << " " << be << ":" << n.get<size_t>();
      std::cout << "\n";
    }
  });
}

}  // namespace cpp::dbg
