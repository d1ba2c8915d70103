// `hubble observe`: flags → GetFlowsRequest → printed flows.
#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <stdexcept>

#include <google/protobuf/util/json_util.h>

#include "hubble_cli/client.h"
#include "hubble_cli/commands.h"
#include "hubble_cli/flow_printer.h"
#include "hubble_cli/observe_request.h"
#include "hubble_cli/table_stream.h"

namespace cpp::hubble_cli {

namespace {

struct ObserveFlags {
  Selector sel;
  std::string output = "compact";
  bool print_node_name = false;
  std::map<std::string, std::vector<std::string>> values;  // storage CLI11 fills; order comes from parse_order()
  int nots = 0;
  std::string input_file;
};

// --input-file: flows another `hubble observe -o json` printed (one
// GetFlowsResponse per line), printed again in the chosen format. This is how
// `cilium-lab observe` renders the flows it merged from every node.
void print_input_file(const std::string& path, FlowPrinter& printer) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (path != "-") {
    file.open(path);
    if (!file) throw std::runtime_error("--input-file: cannot open " + path);
    in = &file;
  }
  std::string line;
  for (size_t n = 1; std::getline(*in, line); ++n) {
    if (line.empty()) continue;
    observer::GetFlowsResponse r;
    auto st = google::protobuf::util::JsonStringToMessage(line, &r);
    if (!st.ok())
      throw std::runtime_error("--input-file " + path + " line " + std::to_string(n) + ": " + std::string(st.message()));
    printer.write(r);
  }
}

// Filter flags in command-line order: CLI11 records every parsed option
// occurrence in parse_order(), and each option's values in order.
std::vector<FilterArg> ordered_filters(const CLI::App& cmd) {
  std::vector<FilterArg> out;
  std::map<const CLI::Option*, size_t> next;
  for (const CLI::Option* opt : cmd.parse_order()) {
    if (opt->get_lnames().empty()) continue;
    const std::string& name = opt->get_lnames().front();
    if (name == "not") {
      out.push_back({"not", ""});
      continue;
    }
    const auto& names = filter_flag_names();
    if (std::find(names.begin(), names.end(), name) == names.end()) continue;
    size_t i = next[opt]++;
    const auto& results = opt->results();
    if (i < results.size()) out.push_back({name, results[i]});
  }
  return out;
}

}  // namespace

void add_observe_command(CLI::App& app, GlobalOptions& g) {
  auto flags = std::make_shared<ObserveFlags>();
  auto* cmd = app.add_subcommand("observe", "Observe flows of a Hubble server");
  static const std::map<std::string, std::string> kShort{{"label", "-l,"}, {"namespace", "-n,"}, {"type", "-t,"}};
  static const std::map<std::string, std::string> kHelp{
      {"pod", "flows from or to pods with this name prefix ([namespace/]pod)"},
      {"namespace", "flows from or to pods in this namespace"},
      {"label", "flows from or to endpoints with this label (key=value, source:key=value)"},
      {"ip", "flows from or to this IP or CIDR"},
      {"port", "flows from or to this port"},
      {"identity", "flows from or to this security identity (number or reserved name)"},
      {"verdict", "FORWARDED, DROPPED, AUDIT, ERROR, REDIRECTED, TRACED, TRANSLATED"},
      {"protocol", "tcp, udp, sctp, icmp, icmpv4, icmpv6"},
      {"type", "drop, trace[:point], policy-verdict or trace-sock"},
      {"traffic-direction", "ingress or egress"},
      {"node-name", "flows observed on this node"},
      {"ip-version", "4 or 6"},
      {"tcp-flags", "flows with these TCP flags set (SYN,ACK,...)"}};
  for (const auto& name : filter_flag_names()) {
    auto s = kShort.find(name);
    // --from-X / --to-X narrow the side of the direction-less --X.
    bool from = name.rfind("from-", 0) == 0, to = name.rfind("to-", 0) == 0;
    std::string base = from ? name.substr(5) : to ? name.substr(3) : name;
    std::string help = kHelp.count(base) ? kHelp.at(base) : name;
    if (from || to) help = std::string(from ? "source" : "destination") + " side of --" + base;
    cmd->add_option((s == kShort.end() ? "" : s->second) + "--" + name, flags->values[name], help)
        ->expected(1)
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  }
  cmd->add_flag("--not", flags->nots, "negate the next filter flag (it goes to the blacklist)");
  cmd->add_option("--last", flags->sel.last, "the last N flows");
  cmd->add_option("--first", flags->sel.first, "the first N flows");
  cmd->add_flag("--all", flags->sel.all, "every flow in the server's buffer");
  cmd->add_flag("-f,--follow", flags->sel.follow, "keep streaming new flows (Ctrl-C stops)");
  cmd->add_option("--since", flags->sel.since, "flows since: RFC3339 time or a duration back from now (5m, 1h)");
  cmd->add_option("--until", flags->sel.until, "flows until: RFC3339 time or a duration back from now");
  cmd->add_option("-o,--output", flags->output, "compact, dict, json, jsonpb or table")->capture_default_str();
  cmd->add_flag("--print-node-name", flags->print_node_name, "print the node name of each flow");
  cmd->add_option("--input-file", flags->input_file,
                  "print flows read from this file (\"-\": stdin) of `observe -o json` lines instead of asking a server");

  cmd->callback([cmd, flags, &g] {
    FlowPrinter printer(std::cout, {parse_output_format(flags->output), flags->print_node_name});
    if (!flags->input_file.empty()) {
      if (!ordered_filters(*cmd).empty() || flags->sel.follow)
        throw std::invalid_argument("--input-file prints the file as it is: filters and --follow apply to servers");
      print_input_file(flags->input_file, printer);
      printer.finish();
      return;
    }
    auto req = build_request(ordered_filters(*cmd), flags->sel, Clock::now());
    ObserverClient client = connect(g);
    // A followed table has no end to wait for: its rows go out as they come.
    if (flags->sel.follow && parse_output_format(flags->output) == OutputFormat::Table) {
      TableStream table(std::cout, flags->print_node_name);
      client.stream_flows(req, [&](const observer::GetFlowsResponse& r) { table.write(r); });
      return;
    }
    client.stream_flows(req, [&](const observer::GetFlowsResponse& r) { printer.write(r); });
    printer.finish();
  });
}

}  // namespace cpp::hubble_cli
