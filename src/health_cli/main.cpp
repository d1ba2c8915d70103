// cilium-health: the node health view of a running agent (its unix socket).
//   status   last probe round: reachability and latency per node
//   ping     runs a probe round now and prints its result
// Exit status 1 when the agent cannot be reached or answers with an error.
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "api/unix_http.h"
#include "health/format.h"
#include "health/report.h"

namespace {

struct Options {
  std::string socket = "/var/run/cilium/cilium.sock";
  std::string output;
  bool verbose = false;
};

nlohmann::json call(const Options& o, const std::string& method, const std::string& path) {
  std::string socket = o.socket;
  const std::string scheme = "unix://";
  if (socket.rfind(scheme, 0) == 0) socket = socket.substr(scheme.size());
  // A probe round waits for probe timeouts: give the agent time.
  auto r = cpp::api::UnixHttpClient(socket, 60000).request(method, path);
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (r.status >= 300) {
    std::string msg = (!j.is_discarded() && j.is_object() && j.contains("error")) ? j["error"].get<std::string>() : r.body;
    throw std::runtime_error("agent: " + msg);
  }
  if (j.is_discarded()) throw std::runtime_error("agent sent invalid JSON for " + path);
  return j;
}

void print(const Options& o, const nlohmann::json& j) {
  if (o.output == "json") {
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::cout << cpp::health::format_status(cpp::health::report_from_json(j), o.verbose);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cilium-health: cluster connectivity as seen from this node"};
  app.require_subcommand(1);
  // `cilium-health status -o json --socket PATH`: global options after the subcommand too.
  app.fallthrough();
  Options o;
  app.add_option("-H,--host,--socket", o.socket, "agent API socket (unix:///path or /path)")->envname("CILIUM_SOCK");
  app.add_option("-o,--output", o.output, "output format: json")->check(CLI::IsMember({"", "json"}));
  auto* status = app.add_subcommand("status", "show the last probe round");
  status->add_flag("--verbose", o.verbose, "also show secondary addresses");
  status->callback([&] { print(o, call(o, "GET", "/v1/health/status")); });
  auto* ping = app.add_subcommand("ping", "probe all nodes now and show the result");
  ping->add_flag("--verbose", o.verbose, "also show secondary addresses");
  ping->callback([&] { print(o, call(o, "POST", "/v1/health/probe")); });
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
