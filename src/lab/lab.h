#pragma once
// The cilium-lab commands. Each returns the process exit code and writes
// errors to stderr; they throw only for unexpected failures.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lab/state.h"

namespace cpp::lab {

struct UpOptions {
  std::string name;
  int nodes = 1;
  std::string bin_dir;
  bool start_agents = true;        // --no-agent: topology and config only
  bool keep_on_failure = false;    // leave a half-made lab for inspection
  int timeout_s = 60;              // per agent, to become ready
  std::map<std::string, std::string> extra_config;  // --set key=value
  std::string kvstore = "etcd";  // "etcd" (etcd members + operator), "directory" or "k8s" (--k8s: API server)
  int etcd_members = 1;
  int operators = 1;
  std::map<std::string, std::string> operator_config;  // --operator-set key=value
};
int cmd_up(const UpOptions& o);
int cmd_down(const std::string& name);
// Prints the kubeconfig path of a --k8s lab (error for other labs).
int cmd_kubeconfig(const std::string& name);

struct PodAddOptions {
  std::string node, pod, ns = "default";
  std::map<std::string, std::string> labels;
  std::string ports;  // container ports "name=port[/PROTO],...": named ports for policies
  bool ready = true;  // --not-ready: Pod condition Ready=False until `pod ready` (no service traffic yet)
};
int cmd_pod_add(const std::string& lab, const PodAddOptions& o);
int cmd_pod_del(const std::string& lab, const std::string& node, const std::string& pod);
// Sets the pod's Ready condition to True: services start sending it traffic.
int cmd_pod_ready(const std::string& lab, const std::string& pod);

// Removes a node as if its machine went away: its pods, agent, namespaces
// and pins, and its Node/CiliumNode objects (so the cluster forgets it).
int cmd_node_del(const std::string& lab, const std::string& node);
// Restarts a node's agent (SIGTERM, or SIGKILL with kill) and waits until it is ready.
int cmd_node_restart(const std::string& lab, const std::string& node, bool kill, int timeout_s);

int cmd_exec(const std::string& lab, const std::string& target, const std::vector<std::string>& argv);
int cmd_apply(const std::string& lab, const std::vector<std::string>& files, bool remove, bool ignore_not_found);
int cmd_status(const std::string& lab, bool as_json);
// Prints one object (or a List of a kind) from the lab's store as JSON.
// kind: a Kind ("Service") or its plural ("services"); ns "" = default (one
// object) or every namespace (a list).
int cmd_get(const std::string& lab, const std::string& kind, const std::string& object, const std::string& ns);
// Every node's flows (`hubble observe ARGS` per node), merged by time.
int cmd_observe(const std::string& lab, const std::string& output, const std::vector<std::string>& args);

struct ConnectivityOptions {
  bool as_json = false;
  bool cross_node = true;  // with two nodes or more: client3/echo-other-node on a second node
  std::string test_filter;  // regex over test names
};
int cmd_connectivity_test(const std::string& lab, const ConnectivityOptions& o);

struct ProbeOptions {
  std::string from, to;      // pod or node names
  std::string proto = "tcp"; // tcp | udp | icmp
  uint16_t port = 8080;
  bool ipv6 = false;
  std::string expect = "allow";  // allow | deny: decides the exit code
};
// Exit code 0 when the outcome matches o.expect.
int cmd_probe(const std::string& lab, const ProbeOptions& o);

struct ProbeMatrixOptions {
  std::vector<std::string> pods;  // pod or node names (comma lists allowed)
  std::vector<std::string> extra; // NAME=NETNS_PATH,IPV4[,IPV6]: members outside the lab
  std::string proto = "tcp";      // tcp | udp | icmp
  uint16_t port = 8080;
  bool ipv6 = false;
  bool as_json = false;
  bool verbose = false;  // why each denied cell failed, on stderr
  int timeout_ms = 1000; // per attempt; a denied cell always takes all of it
  int attempts = 1;
};
// Every from -> to probe among o.pods, concurrently (probe_matrix.cpp). Exit 0
// when the matrix was measured (whatever it shows), 2 when the probes could not run.
int cmd_probe_matrix(const std::string& lab, const ProbeMatrixOptions& o);

// ---- shared helpers (lab.cpp / pods.cpp) ----

// Adds a pod and plumbs it with the CNI plugin; throws with a clear message on failure
// (leaving nothing behind). The lab lock must be held.
PodState add_pod(LabState& lab, const PodAddOptions& o);
// CNI DEL, namespace removal, Pod object removal. Returns errors (empty = clean).
std::vector<std::string> remove_pod(LabState& lab, const PodState& pod);

// Agent API over the node's unix socket.
std::optional<nlohmann::json> agent_get(const NodeState& node, const std::string& path, int timeout_ms = 2000);
bool agent_healthy(const NodeState& node);
// Endpoint id of a pod, from GET /v1/endpoint/container-id:<cid>.
std::optional<int> agent_endpoint_id(const NodeState& node, const std::string& container_id);
// Router addresses of a node (cilium_host): agent /v1/status, or the first address of the PodCIDR.
std::string router_ip(const NodeState& node, bool v6);
// Router IPs and PodCIDRs of a running agent into the node's state.
void refresh_node_addressing(NodeState& node);

std::string default_bin_dir();

}  // namespace cpp::lab
