// cilium-lab: a multi-node ciliumpp lab made of network namespaces.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "common/log.h"
#include "lab/lab.h"
#include "lab/state.h"

namespace {

std::map<std::string, std::string> parse_pairs(const std::vector<std::string>& items, const std::string& what) {
  std::map<std::string, std::string> out;
  for (const auto& item : items) {
    std::string rest = item;
    size_t start = 0;
    while (start <= rest.size()) {
      size_t comma = what == "--labels" ? rest.find(',', start) : std::string::npos;
      std::string kv = rest.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (!kv.empty()) {
        auto eq = kv.find('=');
        if (eq == std::string::npos || eq == 0)
          throw std::invalid_argument(what + ": \"" + kv + "\" is not KEY=VALUE");
        out[kv.substr(0, eq)] = kv.substr(eq + 1);
      }
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  cpp::init_logging("cilium-lab", false);

  CLI::App app{"cilium-lab: a multi-node ciliumpp lab built from network namespaces (nodes, pods and an underlay "
               "bridge), each node running its own cilium-agent"};
  app.require_subcommand(1);
  std::string name;
  app.add_option("-n,--name", name, "Lab name (lower-case letters and digits)")->envname("CILIUM_LAB");

  // up
  cpp::lab::UpOptions up;
  std::vector<std::string> up_set;
  auto* up_cmd = app.add_subcommand("up", "Create the lab and start one cilium-agent per node");
  up_cmd->fallthrough();
  up_cmd->add_option("--nodes", up.nodes, "Number of nodes")->check(CLI::Range(1, 60));
  up_cmd->add_option("--bin-dir", up.bin_dir, "Directory with cilium-agent and cilium-cni (default: next to cilium-lab)");
  bool no_agent = false;
  up_cmd->add_flag("--no-agent", no_agent, "Build namespaces and configuration only; start no agents (no pods possible)");
  up_cmd->add_flag("--keep-on-failure", up.keep_on_failure, "Leave a half-made lab in place when up fails");
  up_cmd->add_option("--timeout", up.timeout_s, "Seconds to wait for the agents to become ready")
      ->check(CLI::Range(1, 3600));
  up_cmd->add_option("--set", up_set, "Extra agent config key=value (repeatable), e.g. --set debug=true");
  std::vector<std::string> operator_set;
  up_cmd->add_option("--kvstore", up.kvstore,
                     "etcd (default: etcd members and operators in the lab, PodCIDRs from the operator) or "
                     "directory (a shared store directory, fixed PodCIDRs)")
      ->check(CLI::IsMember({"etcd", "directory"}));
  bool up_k8s = false;
  up_cmd->add_flag("--k8s", up_k8s,
                   "Kubernetes mode: an API server (the fixture, HTTPS + token) instead of etcd; agents use "
                   "k8s-kubeconfig-path and CRD identities, fixed PodCIDRs; see `cilium-lab kubeconfig`");
  up_cmd->add_option("--etcd-members", up.etcd_members, "etcd cluster size (etcd mode)")->check(CLI::Range(1, 3));
  up_cmd->add_option("--operators", up.operators,
                     "Operators competing for leadership (etcd and --k8s mode; --k8s with 0: fixed PodCIDRs)")
      ->check(CLI::Range(0, 3));
  up_cmd->add_option("--operator-set", operator_set, "Extra operator config key=value (repeatable)");

  auto* kubeconfig_cmd =
      app.add_subcommand("kubeconfig", "Print the path of the lab's kubeconfig (--k8s labs; use it from the underlay: "
                                       "cilium-lab exec underlay -- kubectl --kubeconfig PATH ...)");
  kubeconfig_cmd->fallthrough();

  auto* down_cmd = app.add_subcommand("down", "Stop the agents, remove every pod, namespace, pin and file of the lab");
  down_cmd->fallthrough();

  // node del / node restart
  auto* node_cmd = app.add_subcommand("node", "Remove a node or restart its agent");
  node_cmd->fallthrough();
  node_cmd->require_subcommand(1);
  std::string node_name;
  auto* node_del_cmd = node_cmd->add_subcommand("del", "Remove a node: pods, agent, namespaces, Node/CiliumNode objects");
  node_del_cmd->add_option("node", node_name, "Node name")->required();
  auto* node_restart_cmd = node_cmd->add_subcommand("restart", "Restart a node's cilium-agent and wait until it is ready");
  node_restart_cmd->add_option("node", node_name, "Node name")->required();
  bool node_kill = false;
  int node_timeout = 60;
  node_restart_cmd->add_flag("--kill", node_kill, "SIGKILL the agent instead of SIGTERM");
  node_restart_cmd->add_option("--timeout", node_timeout, "Seconds to wait for the agent")->check(CLI::Range(1, 3600));

  // pod add / pod del
  auto* pod_cmd = app.add_subcommand("pod", "Add or delete a pod (a network namespace plumbed by cilium-cni)");
  pod_cmd->fallthrough();
  pod_cmd->require_subcommand(1);
  cpp::lab::PodAddOptions pod_add;
  std::string pod_labels;
  bool not_ready = false;
  auto* pod_add_cmd = pod_cmd->add_subcommand("add", "Create a pod on a node via CNI ADD");
  pod_add_cmd->fallthrough();
  pod_add_cmd->add_option("node", pod_add.node, "Node name, e.g. node1")->required();
  pod_add_cmd->add_option("pod", pod_add.pod, "Pod name")->required();
  pod_add_cmd->add_option("--namespace", pod_add.ns, "Kubernetes namespace of the Pod object");
  pod_add_cmd->add_option("--labels", pod_labels, "Pod labels k=v,k2=v2");
  pod_add_cmd->add_option("--ports", pod_add.ports, "Container ports name=port[/TCP|UDP|SCTP],... (named ports)");
  pod_add_cmd->add_flag("--not-ready", not_ready,
                         "Start with the Ready condition False (no service traffic) until `pod ready`");
  std::string ready_pod;
  auto* pod_ready_cmd = pod_cmd->add_subcommand("ready", "Mark a pod Ready: services start sending it traffic");
  pod_ready_cmd->add_option("pod", ready_pod, "Pod name")->required();
  std::string del_node, del_pod;
  auto* pod_del_cmd = pod_cmd->add_subcommand("del", "Delete a pod via CNI DEL");
  pod_del_cmd->alias("delete");
  pod_del_cmd->fallthrough();
  pod_del_cmd->add_option("node", del_node, "Node name")->required();
  pod_del_cmd->add_option("pod", del_pod, "Pod name")->required();

  // exec
  std::string exec_target;
  std::vector<std::string> exec_argv;
  auto* exec_cmd = app.add_subcommand("exec", "Run a command inside a pod's or node's network namespace: exec POD -- CMD...");
  exec_cmd->fallthrough();
  exec_cmd->add_option("target", exec_target, "Pod or node name (or 'underlay')")->required();
  exec_cmd->add_option("command", exec_argv, "Command and arguments (after --)")->required();

  // apply / delete
  std::vector<std::string> apply_files, delete_files;
  auto* apply_cmd = app.add_subcommand("apply", "Validate all documents of the YAML files, then store them");
  apply_cmd->fallthrough();
  apply_cmd->add_option("-f,--filename", apply_files, "YAML file ('-' for stdin); repeatable")->required();
  bool ignore_not_found = false;
  auto* delete_cmd = app.add_subcommand("delete", "Delete the objects named in the YAML files from the store");
  delete_cmd->fallthrough();
  delete_cmd->add_option("-f,--filename", delete_files, "YAML file ('-' for stdin); repeatable")->required();
  delete_cmd->add_flag("--ignore-not-found", ignore_not_found, "Objects that do not exist are not an error");

  std::string get_kind, get_name, get_ns;
  auto* get_cmd = app.add_subcommand("get", "Print objects from the lab's store as JSON: get KIND [NAME]");
  get_cmd->fallthrough();
  get_cmd->add_option("kind", get_kind, "Kind or plural, e.g. Service, services, ciliumloadbalancerippools")->required();
  get_cmd->add_option("name", get_name, "Object name (default: list every object of the kind)");
  get_cmd->add_option("--namespace", get_ns, "Namespace (default: 'default' for one object, all for a list)");

  bool status_json = false;
  auto* status_cmd = app.add_subcommand("status", "Show nodes, agents and pods");
  status_cmd->fallthrough();
  status_cmd->add_flag("--json", status_json, "Machine-readable output");

  auto* conn_cmd = app.add_subcommand("connectivity", "Connectivity checks");
  conn_cmd->fallthrough();
  conn_cmd->require_subcommand(1);
  cpp::lab::ConnectivityOptions conn;
  auto* conn_test_cmd = conn_cmd->add_subcommand("test", "Deploy probe pods and run the connectivity matrix");
  conn_test_cmd->fallthrough();
  conn_test_cmd->add_flag("--json", conn.as_json, "Machine-readable results");
  bool same_node_only = false;
  conn_test_cmd->add_flag("--same-node-only", same_node_only,
                          "Do not deploy client3/echo-other-node on a second node; skip the cross-node scenarios");
  conn_test_cmd->add_option("--test", conn.test_filter, "Only tests whose name matches this regex");

  std::string observe_output = "compact";
  auto* observe_cmd = app.add_subcommand(
      "observe", "Flows of every node, merged by time: the arguments of `hubble observe` (filters, --last, --since)");
  observe_cmd->fallthrough(false);
  observe_cmd->allow_extras();
  observe_cmd->add_option("-o,--output", observe_output, "compact, dict, json, jsonpb or table (default compact)");

  cpp::lab::ProbeOptions probe;
  auto* probe_cmd = app.add_subcommand("probe", "One TCP/UDP/ICMP attempt from a pod or node to another");
  probe_cmd->fallthrough();
  probe_cmd->add_option("FROM", probe.from, "source pod or node")->required();
  probe_cmd->add_option("TO", probe.to, "destination pod or node")->required();
  probe_cmd->add_option("--proto", probe.proto, "tcp, udp or icmp")->check(CLI::IsMember({"tcp", "udp", "icmp"}));
  probe_cmd->add_option("--port", probe.port, "destination port (tcp/udp)")->check(CLI::Range(1, 65535));
  probe_cmd->add_flag("--ipv6", probe.ipv6, "use the destination's IPv6 address");
  probe_cmd->add_option("--expect", probe.expect, "allow or deny: exit 0 when the outcome matches")
      ->check(CLI::IsMember({"allow", "deny"}));

  cpp::lab::ProbeMatrixOptions matrix;
  auto* matrix_cmd = app.add_subcommand(
      "probe-matrix", "Probe every FROM -> TO pair among pods/nodes concurrently and print the reachability matrix "
                      "(. allowed, X denied); one attempt per cell, so a denied cell costs the full timeout");
  matrix_cmd->fallthrough();
  matrix_cmd->add_option("--pods", matrix.pods, "pod or node names, comma-separated (rows and columns)")->required();
  matrix_cmd->add_option("--extra", matrix.extra,
                         "NAME=NETNS_PATH,IPV4[,IPV6]: a namespace outside the lab (e.g. a test's world) that --pods "
                         "may name; repeatable");
  matrix_cmd->add_option("--proto", matrix.proto, "tcp, udp or icmp")->check(CLI::IsMember({"tcp", "udp", "icmp"}));
  matrix_cmd->add_option("--port", matrix.port, "destination port (tcp/udp; default 8080)")->check(CLI::Range(1, 65535));
  matrix_cmd->add_flag("--ipv6", matrix.ipv6, "use the destinations' IPv6 addresses");
  matrix_cmd->add_flag("--json", matrix.as_json, "print {\"FROM/TO\": true|false, ...}");
  matrix_cmd->add_flag("-v,--verbose", matrix.verbose, "print why each denied cell failed (stderr)");
  matrix_cmd->add_option("--timeout-ms", matrix.timeout_ms, "per-attempt timeout (default 1000)")
      ->check(CLI::Range(1, 60000));
  matrix_cmd->add_option("--attempts", matrix.attempts, "attempts per cell (default 1)")->check(CLI::Range(1, 10));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  try {
    if (::geteuid() != 0) {
      std::cerr << "cilium-lab: must run as root (it creates network namespaces and starts agents)\n";
      return 1;
    }
    if (name.empty()) {
      std::cerr << "cilium-lab: a lab name is required: -n/--name NAME (or CILIUM_LAB=NAME)\n";
      return 1;
    }
    cpp::lab::validate_lab_name(name);
    if (*up_cmd) {
      up.name = name;
      up.start_agents = !no_agent;
      up.extra_config = parse_pairs(up_set, "--set");
      up.operator_config = parse_pairs(operator_set, "--operator-set");
      if (up_k8s) {
        if (up_cmd->count("--kvstore")) {
          std::cerr << "cilium-lab up: --k8s and --kvstore are mutually exclusive (the API server is the store)\n";
          return 1;
        }
        up.kvstore = "k8s";
      }
      return cpp::lab::cmd_up(up);
    }
    if (*kubeconfig_cmd) return cpp::lab::cmd_kubeconfig(name);
    if (*down_cmd) return cpp::lab::cmd_down(name);
    if (*node_del_cmd) return cpp::lab::cmd_node_del(name, node_name);
    if (*node_restart_cmd) return cpp::lab::cmd_node_restart(name, node_name, node_kill, node_timeout);
    if (*pod_add_cmd) {
      pod_add.labels = parse_pairs({pod_labels}, "--labels");
      pod_add.ready = !not_ready;
      return cpp::lab::cmd_pod_add(name, pod_add);
    }
    if (*pod_del_cmd) return cpp::lab::cmd_pod_del(name, del_node, del_pod);
    if (*pod_ready_cmd) return cpp::lab::cmd_pod_ready(name, ready_pod);
    if (*exec_cmd) return cpp::lab::cmd_exec(name, exec_target, exec_argv);
    if (*apply_cmd) return cpp::lab::cmd_apply(name, apply_files, false, false);
    if (*delete_cmd) return cpp::lab::cmd_apply(name, delete_files, true, ignore_not_found);
    if (*status_cmd) return cpp::lab::cmd_status(name, status_json);
    if (*get_cmd) return cpp::lab::cmd_get(name, get_kind, get_name, get_ns);
    if (*observe_cmd) return cpp::lab::cmd_observe(name, observe_output, observe_cmd->remaining());
    if (*conn_test_cmd) {
      conn.cross_node = !same_node_only;
      return cpp::lab::cmd_connectivity_test(name, conn);
    }
    if (*probe_cmd) return cpp::lab::cmd_probe(name, probe);
    if (*matrix_cmd) return cpp::lab::cmd_probe_matrix(name, matrix);
  } catch (const std::exception& e) {
    std::cerr << "cilium-lab: " << e.what() << "\n";
    return 1;
  }
  std::cerr << app.help();
  return 1;
}
