// cilium-dbg: inspect a running agent and its pinned maps.
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "api/unix_http.h"
#include "datapath/endpoint_map.h"
#include "datapath/ipcache_map.h"
#include "datapath/map_json.h"
#include "dbg/format.h"

namespace {

using nlohmann::json;

struct Agent {
  cpp::api::UnixHttpClient http;
  json get(const std::string& path) const {
    auto r = http.request("GET", path);
    json j = json::parse(r.body, nullptr, false);
    if (r.status != 200) {
      std::string msg = (!j.is_discarded() && j.contains("error")) ? j["error"].get<std::string>() : r.body;
      throw std::runtime_error(msg);
    }
    if (j.is_discarded()) throw std::runtime_error("agent sent invalid JSON for " + path);
    return j;
  }
};

std::string socket_from_host(std::string host) {
  const std::string scheme = "unix://";
  if (host.rfind(scheme, 0) == 0) host = host.substr(scheme.size());
  return host;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ciliumpp debug CLI"};
  app.require_subcommand(1);
  std::string host = "unix:///var/run/cilium/cilium.sock";
  std::string output;
  app.add_option("-H,--host", host, "agent API socket (unix:///path or /path)")->envname("CILIUM_SOCK");
  app.add_option("-o,--output", output, "output format: json")->check(CLI::IsMember({"", "json"}));
  bool as_json = false;
  auto* status = app.add_subcommand("status", "agent status");
  auto* ep = app.add_subcommand("endpoint", "endpoints")->require_subcommand(1);
  auto* ep_list = ep->add_subcommand("list", "list endpoints");
  std::string ep_id;
  auto* ep_get = ep->add_subcommand("get", "one endpoint as JSON");
  ep_get->add_option("ID", ep_id, "endpoint id or container-id:<id>")->required();
  auto* bpf = app.add_subcommand("bpf", "datapath maps")->require_subcommand(1);
  auto* bpf_ep = bpf->add_subcommand("endpoint", "local endpoint map")->require_subcommand(1);
  auto* bpf_ep_list = bpf_ep->add_subcommand("list", "list the local endpoint map");
  auto* bpf_ipc = bpf->add_subcommand("ipcache", "ipcache map")->require_subcommand(1);
  auto* bpf_ipc_list = bpf_ipc->add_subcommand("list", "list the ipcache map");
  auto* map = app.add_subcommand("map", "pinned maps")->require_subcommand(1);
  auto* map_list = map->add_subcommand("list", "list maps");
  std::string map_name;
  auto* map_get = map->add_subcommand("get", "entries of one map");
  map_get->add_option("NAME", map_name, "map name, e.g. cpp_lxc")->required();
  for (auto* c : {status, ep_list, ep_get, bpf_ep_list, bpf_ipc_list, map_list, map_get})
    c->add_flag("--json", as_json, "print JSON");
  CLI11_PARSE(app, argc, argv);
  as_json = as_json || output == "json";

  Agent agent{cpp::api::UnixHttpClient(socket_from_host(host))};
  try {
    if (*status) {
      auto s = agent.get("/v1/status");
      std::cout << (as_json ? s.dump(2) + "\n" : cpp::dbg::format_status(s));
    } else if (*ep_list) {
      auto l = agent.get("/v1/endpoint");
      std::cout << (as_json ? l.dump(2) + "\n" : cpp::dbg::format_endpoint_list(l));
    } else if (*ep_get) {
      std::cout << agent.get("/v1/endpoint/" + ep_id).dump(2) << "\n";
    } else if (*bpf_ep_list || *bpf_ipc_list) {
      // Read the pinned maps directly, as upstream does: this works even
      // while the agent is restarting, once the pin directory is known.
      std::string pin_dir = agent.get("/v1/status")["pin-dir"].get<std::string>();
      json entries;
      if (*bpf_ep_list) {
        entries = cpp::datapath::endpoint_map_to_json(cpp::datapath::EndpointMap(pin_dir).dump());
        std::cout << (as_json ? entries.dump(2) + "\n" : cpp::dbg::format_bpf_endpoint_list(entries));
      } else {
        entries = cpp::datapath::ipcache_to_json(cpp::datapath::IpcacheMap(pin_dir).dump());
        std::cout << entries.dump(2) << "\n";
      }
    } else if (*map_list) {
      auto l = agent.get("/v1/map");
      std::cout << (as_json ? l.dump(2) + "\n" : cpp::dbg::format_map_list(l));
    } else if (*map_get) {
      std::cout << agent.get("/v1/map/" + map_name).dump(2) << "\n";
    }
  } catch (const std::exception& e) {
    std::cerr << "Error: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
