// policy, identity and `bpf policy` commands.
#include <iostream>

#include "common/files.h"
#include "datapath/policy_map.h"
#include "datapath/map_json.h"
#include "dbg/context.h"
#include "dbg/format.h"
#include "store/yaml.h"

namespace cpp::dbg {
namespace {

// "80/tcp" -> {80, "TCP"}; "80" -> {80, "TCP"}
std::pair<int, std::string> parse_dport(const std::string& s) {
  auto slash = s.find('/');
  std::string port = s.substr(0, slash);
  std::string proto = slash == std::string::npos ? "TCP" : s.substr(slash + 1);
  if (port.empty() || port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5 ||
      std::stoi(port) > 65535)
    throw std::runtime_error("--dport: \"" + s + "\" is not PORT[/PROTOCOL]");
  return {std::stoi(port), proto};
}

// "ns:name" / "ns/name" pod reference or a label list.
nlohmann::json peer(const std::string& labels, const std::string& pod, const char* which) {
  if (!pod.empty()) {
    std::string ref = pod;
    if (auto c = ref.find(':'); c != std::string::npos) ref[c] = '/';
    return {{"pod", ref}};
  }
  if (labels.empty()) throw std::runtime_error(std::string("give --") + which + " or --" + which + "-k8s-pod");
  nlohmann::json list = nlohmann::json::array();
  size_t start = 0;
  while (start < labels.size()) {
    size_t end = labels.find_first_of(", ", start);
    if (end == std::string::npos) end = labels.size();
    if (end > start) list.push_back(labels.substr(start, end - start));
    start = end + 1;
  }
  return {{"labels", list}};
}

struct TraceArgs {
  std::string src, dst, src_pod, dst_pod, dport = "0/ANY";
} trace_args;

struct PolicyArgs {
  std::string file, name, ns, kind = "CiliumNetworkPolicy";
} policy_args;

std::string identity_arg;
std::string endpoint_arg;

}  // namespace

void add_policy_commands(CLI::App& app, Context& ctx) {
  auto* pol = app.add_subcommand("policy", "network policy")->require_subcommand(1);

  auto* get = pol->add_subcommand("get", "policies in force and the revision");
  get->callback([&ctx] {
    auto j = ctx.get("/v1/policy");
    if (ctx.json) {
      std::cout << j.dump(2) << "\n";
      return;
    }
    nlohmann::json objs = nlohmann::json::array();
    for (const auto& p : j["policies"]) objs.push_back(p["object"]);
    std::cout << objs.dump(2) << "\nRevision: " << j["revision"] << "\n";
  });

  auto* import = pol->add_subcommand("import", "apply policies from a YAML or JSON file");
  import->add_option("FILE", policy_args.file, "multi-document YAML")->required()->check(CLI::ExistingFile);
  import->callback([&ctx] {
    auto text = read_file(policy_args.file);
    if (!text) throw std::runtime_error("cannot read " + policy_args.file);
    auto docs = store::parse_yaml_documents(*text);
    auto j = ctx.call("PUT", "/v1/policy", nlohmann::json(docs).dump());
    std::cout << "Revision: " << j["revision"] << "\n";
  });

  auto* del = pol->add_subcommand("delete", "delete one policy");
  del->add_option("NAME", policy_args.name, "policy name")->required();
  del->add_option("-n,--namespace", policy_args.ns, "namespace (default: default)");
  del->add_option("--kind", policy_args.kind, "CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy, NetworkPolicy");
  del->callback([&ctx] {
    std::string q = "kind=" + policy_args.kind + "&name=" + policy_args.name;
    if (!policy_args.ns.empty()) q += "&namespace=" + policy_args.ns;
    auto j = ctx.call("DELETE", "/v1/policy?" + q);
    std::cout << "Revision: " << j["revision"] << "\n";
  });

  auto* trace = pol->add_subcommand("trace", "verdict for a connection and the rule that decided it");
  trace->add_option("-s,--src", trace_args.src, "source labels, e.g. k8s:app=client,k8s:io.kubernetes.pod.namespace=x");
  trace->add_option("-d,--dst", trace_args.dst, "destination labels");
  trace->add_option("--src-k8s-pod", trace_args.src_pod, "source pod as namespace:name");
  trace->add_option("--dst-k8s-pod", trace_args.dst_pod, "destination pod as namespace:name");
  trace->add_option("--dport", trace_args.dport, "PORT[/PROTOCOL], e.g. 80/TCP; ICMP: TYPE/ICMP");
  trace->callback([&ctx] {
    auto [port, proto] = parse_dport(trace_args.dport);
    nlohmann::json req{{"src", peer(trace_args.src, trace_args.src_pod, "src")},
                       {"dst", peer(trace_args.dst, trace_args.dst_pod, "dst")},
                       {"dport", port},
                       {"protocol", proto}};
    auto j = ctx.call("POST", "/v1/policy/trace", req.dump());
    if (ctx.json)
      std::cout << j.dump(2) << "\n";
    else
      std::cout << j["text"].get<std::string>() << "\n";
  });

  auto* id = app.add_subcommand("identity", "security identities")->require_subcommand(1);
  auto* id_list = id->add_subcommand("list", "all identities");
  id_list->add_flag("--json", ctx.json, "print JSON");
  id_list->callback([&ctx] {
    auto l = ctx.get("/v1/identity");
    std::cout << (ctx.json ? l.dump(2) + "\n" : format_identity_list(l));
  });
  auto* id_get = id->add_subcommand("get", "one identity");
  id_get->add_option("ID", identity_arg, "numeric identity")->required();
  id_get->callback([&ctx] { std::cout << ctx.get("/v1/identity/" + identity_arg).dump(2) << "\n"; });

  auto* bpf = app.get_subcommand("bpf");
  auto* bpf_pol = bpf->add_subcommand("policy", "policy map")->require_subcommand(1);
  auto* bpf_pol_get = bpf_pol->add_subcommand("get", "policy map entries of one endpoint");
  bpf_pol_get->add_option("ENDPOINT", endpoint_arg, "endpoint id")->required();
  bpf_pol_get->add_flag("--json", ctx.json, "print JSON");
  bpf_pol_get->callback([&ctx] {
    auto ep = ctx.get("/v1/endpoint/" + endpoint_arg);
    uint16_t ep_id = ep["id"].get<uint16_t>();
    std::map<uint32_t, std::vector<std::string>> names;
    for (const auto& i : ctx.get("/v1/identity"))
      names[i["id"].get<uint32_t>()] = i["labels"].get<std::vector<std::string>>();
    auto entries = datapath::policy_entries_to_json(
        datapath::PolicyMap(ctx.pin_dir()).dump(ep_id), [&](uint32_t id) {
          auto it = names.find(id);
          return it == names.end() ? std::vector<std::string>{} : it->second;
        });
    if (ctx.json) {
      std::cout << entries.dump(2) << "\n";
      return;
    }
    std::cout << format_bpf_policy(entries);
  });
}

}  // namespace cpp::dbg
