// cilium-lab up / down / status / exec / apply / delete.
#include "lab/lab.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>

#include "api/unix_http.h"
#include "common/files.h"
#include "common/ip.h"
#include "lab/cluster.h"
#include "lab/kube_api.h"
#include "lab/veth_xdp.h"
#include "lab/netns.h"
#include "lab/proc.h"
#include "lab/services.h"
#include "policy/rules.h"
#include "policy/types.h"
#include "store/store.h"
#include "store/yaml.h"

namespace fs = std::filesystem;

namespace cpp::lab {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// ---- agent API ----------------------------------------------------------------

std::optional<json> agent_get(const NodeState& node, const std::string& path, int timeout_ms) {
  if (node.socket.empty()) return std::nullopt;
  try {
    api::UnixHttpClient client(node.socket, timeout_ms);
    auto r = client.request("GET", path);
    if (r.status != 200) return std::nullopt;
    json j = json::parse(r.body, nullptr, false);
    if (j.is_discarded()) return std::nullopt;
    return j;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

bool agent_healthy(const NodeState& node) {
  if (node.socket.empty()) return false;
  try {
    api::UnixHttpClient client(node.socket, 1000);
    return client.request("GET", "/v1/healthz").status == 200;
  } catch (const std::exception&) {
    return false;
  }
}

std::optional<int> agent_endpoint_id(const NodeState& node, const std::string& container_id) {
  auto ep = agent_get(node, "/v1/endpoint/container-id:" + container_id);
  if (!ep || !ep->is_object() || !ep->contains("id") || !(*ep)["id"].is_number_integer()) return std::nullopt;
  return (*ep)["id"].get<int>();
}

std::string router_ip(const NodeState& node, bool v6) {
  if (process_alive(node.agent))
    if (auto st = agent_get(node, "/v1/status")) {
      const char* key = v6 ? "router-ipv6" : "router-ipv4";
      if (st->contains(key) && (*st)[key].is_string()) return (*st)[key].get<std::string>();
    }
  const std::string& cached = v6 ? node.router_ipv6 : node.router_ipv4;
  if (!cached.empty()) return cached;
  auto p = IpPrefix::parse(v6 ? node.pod_cidr_ipv6 : node.pod_cidr_ipv4);
  return p ? p->nth(1).str() : std::string();
}

void refresh_node_addressing(NodeState& n) {
  n.router_ipv4 = router_ip(n, false);
  n.router_ipv6 = router_ip(n, true);
  if (auto st = agent_get(n, "/v1/status")) {
    if (st->contains("pod-cidr-ipv4")) n.pod_cidr_ipv4 = (*st)["pod-cidr-ipv4"].get<std::string>();
    if (st->contains("pod-cidr-ipv6")) n.pod_cidr_ipv6 = (*st)["pod-cidr-ipv6"].get<std::string>();
  }
}

std::string default_bin_dir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return ".";
  return exe.parent_path().string();
}

// ---- topology -------------------------------------------------------------------

namespace {

void ip_in(const std::string& ns, std::vector<std::string> args) {
  std::vector<std::string> argv{"ip", "-n", ns};
  argv.insert(argv.end(), args.begin(), args.end());
  run_checked(argv);
}

void build_underlay(const LabState& lab) {
  std::string u = lab.underlay_netns();
  create_netns(u);
  ip_in(u, {"link", "set", "lo", "up"});
  ip_in(u, {"link", "add", "br0", "type", "bridge"});
  ip_in(u, {"link", "set", "br0", "up"});
  // The lab's own seat on the underlay: cilium-lab talks to etcd from here.
  ip_in(u, {"addr", "add", "192.0.2.1/24", "dev", "br0"});
  ip_in(u, {"-6", "addr", "add", "2001:db8::1/64", "dev", "br0", "nodad"});
}

NodeState make_node(const LabState& lab, int i) {
  NodeState n;
  n.index = i;
  n.name = "node" + std::to_string(i);
  n.netns = lab.netns_prefix() + n.name;
  n.ipv4 = "192.0.2." + std::to_string(10 + i);
  n.ipv6 = "2001:db8::" + std::to_string(10 + i);
  n.underlay_ifname = "v" + n.name;
  n.dir = lab.dir() + "/" + n.name;
  n.config_dir = n.dir + "/config";
  n.state_dir = n.dir + "/state";
  n.socket = n.dir + "/cilium.sock";
  n.log = n.dir + "/agent.log";
  n.conflist = n.dir + "/net.d/05-cilium.conflist";
  if (!pod_cidrs_from_operator(lab)) {
    n.pod_cidr_ipv4 = "10.233." + std::to_string(63 + i) + ".0/24";
    n.pod_cidr_ipv6 = "fd00:10:233:" + std::to_string(i) + "::/64";
  }
  return n;
}

void build_node(const LabState& lab, const NodeState& n) {
  std::string u = lab.underlay_netns();
  create_netns(n.netns);
  ip_in(u, {"link", "add", n.underlay_ifname, "type", "veth", "peer", "name", "eth0", "netns", n.netns});
  ip_in(u, {"link", "set", n.underlay_ifname, "master", "br0"});
  ip_in(u, {"link", "set", n.underlay_ifname, "up"});
  // Frames the node's XDP program sends back out (XDP_TX) arrive on this
  // peer (src/lab/veth_xdp.h).
  attach_xdp_pass(u, n.underlay_ifname);
  ip_in(n.netns, {"link", "set", "lo", "up"});
  ip_in(n.netns, {"addr", "add", n.ipv4 + "/24", "dev", "eth0"});
  ip_in(n.netns, {"-6", "addr", "add", n.ipv6 + "/64", "dev", "eth0", "nodad"});
  ip_in(n.netns, {"link", "set", "eth0", "up"});
  cpp::make_dirs(node_cgroup(lab, n));
}

void write_node_config(const LabState& lab, const NodeState& n, const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> cfg{
      {"cluster-name", lab.name},
      {"routing-mode", "tunnel"},
      {"tunnel-protocol", "vxlan"},
      {"enable-ipv4", "true"},
      {"enable-ipv6", "true"},
      {"state-dir", n.state_dir},
      {"socket-path", n.socket},
      {"bpf-root", "/sys/fs/bpf"},
      {"local-store-dir", lab.store_dir},
      {"write-cni-conf-when-ready", n.conflist},
      {"health-netns", n.netns + "-health"},
      {"health-probe-interval", "10s"},
      // kube-proxy replacement as the seed runs it; socket LB on the
      // node's own cgroup (pods' and the node's processes join it).
      {"kube-proxy-replacement", "true"},
      {"bpf-lb-sock", "true"},
      {"cgroup-root", node_cgroup(lab, n)},
      {"enable-external-ips", "true"},
      {"service-no-backend-response", "reject"},
      // Hubble and metrics as the seed runs them, each node in its own
      // network namespace (so every node can use the same ports).
      {"enable-hubble", "true"},
      {"hubble-listen-address", ":4244"},
      {"hubble-socket-path", n.state_dir + "/hubble.sock"},
      {"monitor-aggregation", "medium"},
      {"prometheus-serve-addr", ":9962"},
  };
  if (lab.kvstore == "etcd") {
    for (const auto& [k, v] : etcd_mode_agent_config(lab)) cfg[k] = v;
  } else if (pod_cidrs_from_operator(lab)) {
    cfg["ipam"] = "cluster-pool";
  } else {
    cfg["ipv4-range"] = n.pod_cidr_ipv4;
    cfg["ipv6-range"] = n.pod_cidr_ipv6;
  }
  if (lab.kvstore == "k8s") {
    cfg["k8s-kubeconfig-path"] = lab.kubeconfig_path();
    cfg["identity-allocation-mode"] = "crd";
    // Pods come and go in bursts (connectivity test): above upstream's 5/10.
    cfg["k8s-client-qps"] = "50";
    cfg["k8s-client-burst"] = "100";
    cfg["enable-ipv4-masquerade"] = "true";
    cfg["enable-ipv6-masquerade"] = "true";
  }
  for (const auto& [k, v] : extra) cfg[k] = v;
  cpp::make_dirs(n.config_dir);
  cpp::make_dirs(n.state_dir);
  for (const auto& [k, v] : cfg) cpp::write_file_atomic(n.config_dir + "/" + k, v);
}

// When PodCIDRs come from the operator (cluster-pool IPAM), the Node object
// carries none, as with upstream's cluster-pool mode.
json node_object(const LabState& lab, const NodeState& n) {
  json spec = json::object();
  if (!pod_cidrs_from_operator(lab)) spec = {{"podCIDR", n.pod_cidr_ipv4}, {"podCIDRs", {n.pod_cidr_ipv4, n.pod_cidr_ipv6}}};
  // As a cluster with Cilium's taint in its node template: the agent removes it when ready.
  if (lab.kvstore == "k8s")
    spec["taints"] = {{{"key", "node.cilium.io/agent-not-ready"}, {"value", "true"}, {"effect", "NoSchedule"}}};
  return {{"apiVersion", "v1"},
          {"kind", "Node"},
          {"metadata", {{"name", n.name}, {"labels", {{"kubernetes.io/hostname", n.name}, {"kubernetes.io/os", "linux"}}}}},
          {"spec", spec},
          {"status",
           {{"addresses",
             {{{"type", "InternalIP"}, {"address", n.ipv4}},
              {{"type", "InternalIP"}, {"address", n.ipv6}},
              {{"type", "Hostname"}, {"address", n.name}}}}}}};
}

void start_agent(const LabState& lab, NodeState& n) {
  std::string nsenter = find_program("nsenter");
  if (nsenter.empty()) throw std::runtime_error("nsenter not found in PATH");
  std::vector<std::string> argv{nsenter,         "--net=" + n.netns_path(), lab.bin_dir + "/cilium-agent",
                                "--config-dir",  n.config_dir,              "--node-name",
                                n.name};
  n.agent = spawn_daemon(argv, n.log);
}

// Set by SIGINT/SIGTERM while `up` waits, so that an interrupted up still cleans up.
volatile std::sig_atomic_t g_interrupted = 0;
extern "C" void on_interrupt(int) { g_interrupted = 1; }

void wait_agents_ready(LabState& lab, int timeout_s) {
  auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
  std::set<std::string> pending;
  for (const auto& n : lab.nodes) pending.insert(n.name);
  while (!pending.empty()) {
    for (auto it = pending.begin(); it != pending.end();) {
      NodeState& n = *lab.find_node(*it);
      if (!process_alive(n.agent))
        throw std::runtime_error("cilium-agent on " + n.name + " (pid " + std::to_string(n.agent.pid) +
                                 ") exited during start-up; last lines of " + n.log + ":\n" + tail_file(n.log, 30));
      struct stat st {};
      if (::stat(n.conflist.c_str(), &st) == 0 && agent_healthy(n)) {
        it = pending.erase(it);
      } else {
        ++it;
      }
    }
    if (pending.empty()) break;
    if (g_interrupted) throw std::runtime_error("interrupted while waiting for the agents");
    if (Clock::now() > deadline) {
      const NodeState& n = *lab.find_node(*pending.begin());
      throw std::runtime_error("cilium-agent on " + n.name + " not ready after " + std::to_string(timeout_s) +
                               " s (waiting for " + n.conflist + " and GET /v1/healthz = 200 on " + n.socket +
                               "); last lines of " + n.log + ":\n" + tail_file(n.log, 30));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

void remove_tree(const std::string& path, std::vector<std::string>& problems) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return;
  fs::remove_all(path, ec);
  if (ec) problems.push_back("remove " + path + ": " + ec.message());
}

// cgroupfs directories can only be rmdir'ed, bottom-up.
void remove_cgroup_tree(const std::string& path, std::vector<std::string>& problems) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return;
  for (const auto& e : fs::directory_iterator(path, ec))
    if (e.is_directory(ec)) remove_cgroup_tree(e.path().string(), problems);
  if (::rmdir(path.c_str()) != 0) problems.push_back("rmdir " + path + ": " + std::strerror(errno));
}

// Everything `down` does, with the lab lock held. Works from whatever is left:
// lab.json when readable, otherwise the namespaces and directories by name.
std::vector<std::string> teardown_locked(const std::string& name, bool verbose) {
  std::vector<std::string> problems;
  auto lab = try_load_lab(name);
  std::string prefix = "cpp-" + name + "-";

  if (lab) {
    for (const auto& pod : std::vector<PodState>(lab->pods)) {
      for (const auto& e : remove_pod(*lab, pod)) problems.push_back("pod " + pod.name + ": " + e);
      if (verbose) std::cerr << "removed pod " << pod.name << "\n";
    }
    for (const auto& n : lab->nodes) {
      if (n.agent.pid <= 0) continue;
      bool was_alive = process_alive(n.agent);
      if (!stop_process(n.agent, std::chrono::seconds(10)))
        problems.push_back("cilium-agent pid " + std::to_string(n.agent.pid) + " on " + n.name + " did not stop");
      else if (verbose && was_alive)
        std::cerr << "stopped cilium-agent on " << n.name << " (pid " << n.agent.pid << ")\n";
    }
    for (const auto& p : stop_control_plane(*lab)) problems.push_back(p);
  }

  std::set<std::string> namespaces;
  for (const auto& ns : list_netns())
    if (ns.rfind(prefix, 0) == 0) namespaces.insert(ns);
  if (lab) {
    namespaces.insert(lab->underlay_netns());
    namespaces.insert(lab->world_netns());
    for (const auto& d : lab->etcd) namespaces.insert(d.netns);
    for (const auto& d : lab->operators) namespaces.insert(d.netns);
    for (const auto& d : lab->kubeapi) namespaces.insert(d.netns);
    for (const auto& n : lab->nodes) namespaces.insert(n.netns);
    for (const auto& p : lab->pods) namespaces.insert(p.netns);
  }
  // Anything still running inside the lab's namespaces was started for the
  // lab (a stray agent, a leftover probe): stop it by PID.
  std::vector<ino_t> inodes;
  for (const auto& ns : namespaces)
    if (ino_t i = netns_inode(netns_path(ns))) inodes.push_back(i);
  for (pid_t pid : processes_in_netns(inodes)) {
    auto t = process_start_time(pid);
    if (!t) continue;
    if (!stop_process({pid, *t}, std::chrono::seconds(3)))
      problems.push_back("process " + std::to_string(pid) + " inside the lab did not stop");
    else if (verbose)
      std::cerr << "stopped process " << pid << " running inside the lab\n";
  }
  for (const auto& ns : namespaces) {
    if (!netns_exists(ns)) continue;
    std::string err;
    if (!delete_netns(ns, &err))
      problems.push_back("delete namespace " + ns + ": " + err);
    else if (verbose)
      std::cerr << "deleted namespace " << ns << "\n";
  }

  // Pins: /sys/fs/bpf/ciliumpp/<cluster-name>/<node> (cluster-name is the lab name).
  remove_tree(std::string(kPinRoot) + "/" + name, problems);
  remove_cgroup_tree(std::string(kCgroupRoot) + "/" + name, problems);
  // The shared parent goes with the last user; another lab or test still
  // holding a child keeps it (rmdir fails, which is fine).
  ::rmdir(kCgroupRoot);
  remove_tree(lab_dir(name), problems);
  return problems;
}

// Left-aligned columns, two spaces apart.
void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> w;
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) {
      if (w.size() <= i) w.push_back(0);
      w[i] = std::max(w[i], r[i].size());
    }
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(w[i] - r[i].size() + 2, ' ');
    }
    std::cout << line << "\n";
  }
}

}  // namespace

int cmd_up(const UpOptions& o) {
  validate_lab_name(o.name);
  if (o.nodes < 1 || o.nodes > 60) throw std::invalid_argument("--nodes must be between 1 and 60");
  LabLock lock(o.name);
  std::string prefix = "cpp-" + o.name + "-";
  bool leftovers = lab_exists(o.name) || fs::exists(lab_dir(o.name));
  for (const auto& ns : list_netns())
    if (ns.rfind(prefix, 0) == 0) leftovers = true;
  if (leftovers) {
    std::cerr << "cilium-lab: lab \"" << o.name << "\" already exists (remove it with: cilium-lab -n " << o.name
              << " down)\n";
    return 1;
  }

  LabState lab;
  lab.name = o.name;
  lab.bin_dir = fs::absolute(o.bin_dir.empty() ? default_bin_dir() : o.bin_dir).lexically_normal().string();
  while (lab.bin_dir.size() > 1 && lab.bin_dir.back() == '/') lab.bin_dir.pop_back();
  lab.store_dir = lab.dir() + "/store";
  lab.agents = o.start_agents;
  if (o.kvstore != "etcd" && o.kvstore != "directory" && o.kvstore != "k8s")
    throw std::invalid_argument("--kvstore must be etcd or directory (or --k8s), got \"" + o.kvstore + "\"");
  lab.kvstore = o.kvstore;
  if (o.start_agents && (lab.kvstore == "etcd" || (lab.kvstore == "k8s" && o.operators > 0)) &&
      ::access((lab.bin_dir + "/cilium-operator-generic").c_str(), X_OK) != 0) {
    std::cerr << "cilium-lab: " << lab.bin_dir << "/cilium-operator-generic not found or not executable\n";
    return 1;
  }
  if (o.start_agents && ::access((lab.bin_dir + "/cilium-agent").c_str(), X_OK) != 0) {
    std::cerr << "cilium-lab: " << lab.bin_dir << "/cilium-agent not found or not executable (build it, or pass "
              << "--bin-dir)\n";
    return 1;
  }
  for (const char* tool : {"ip", "nsenter"})
    if (find_program(tool).empty()) {
      std::cerr << "cilium-lab: " << tool << " not found in PATH\n";
      return 1;
    }

  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  try {
    save_lab(lab);  // from here on, `down` can find and remove what exists
    build_underlay(lab);
    build_world(lab);
    if (lab.kvstore == "etcd") {
      start_etcd_cluster(lab, o.etcd_members, o.timeout_s);
      save_lab(lab);
      if (o.start_agents) start_operators(lab, o.operators, o.operator_config);
    } else if (lab.kvstore == "k8s") {
      start_kube_apiserver(lab, o.timeout_s);
      save_lab(lab);
      if (o.start_agents && o.operators > 0) start_operators(lab, o.operators, o.operator_config);
    }
    auto store = open_lab_store(lab);
    for (int i = 1; i <= o.nodes; ++i) {
      NodeState n = make_node(lab, i);
      lab.nodes.push_back(n);
      save_lab(lab);
      build_node(lab, n);
      write_node_config(lab, n, o.extra_config);
      store->put(node_object(lab, n));
    }
    save_lab(lab);
    if (o.start_agents) {
      for (auto& n : lab.nodes) {
        start_agent(lab, n);
        save_lab(lab);
      }
      wait_agents_ready(lab, o.timeout_s);
      for (auto& n : lab.nodes) refresh_node_addressing(n);
      save_lab(lab);
      route_world_to_nodes(lab);
    }
    if (g_interrupted) throw std::runtime_error("interrupted");
  } catch (const std::exception& e) {
    std::cerr << "cilium-lab up: " << e.what() << "\n";
    if (o.keep_on_failure) {
      std::cerr << "cilium-lab: the half-made lab was left for inspection; remove it with: cilium-lab -n " << o.name
                << " down\n";
    } else {
      for (const auto& p : teardown_locked(o.name, false)) std::cerr << "cilium-lab: cleanup: " << p << "\n";
      std::cerr << "cilium-lab: removed the half-made lab " << o.name << "\n";
    }
    return 1;
  }

  std::cout << "lab " << lab.name << " is up: " << lab.nodes.size() << " node(s), ";
  if (lab.kvstore == "etcd")
    std::cout << lab.etcd.size() << " etcd member(s), " << lab.operators.size() << " operator(s)\n";
  else if (lab.kvstore == "k8s")
    std::cout << "Kubernetes API https://" << kKubeApiIpv4 << ":" << kKubeApiPort << ", " << lab.operators.size()
              << " operator(s), kubeconfig " << lab.kubeconfig_path() << "\n";
  else
    std::cout << "store " << lab.store_dir << "\n";
  for (const auto& n : lab.nodes) {
    std::cout << "  " << n.name << "  netns " << n.netns << "  " << n.ipv4 << " " << n.ipv6 << "  podCIDRs "
              << n.pod_cidr_ipv4 << " " << n.pod_cidr_ipv6;
    if (n.agent.pid) std::cout << "  cilium-agent pid " << n.agent.pid;
    std::cout << "\n";
  }
  return 0;
}

int cmd_kubeconfig(const std::string& name) {
  LabState lab = load_lab(name);
  if (lab.kvstore != "k8s") {
    std::cerr << "cilium-lab kubeconfig: lab " << name << " is not in Kubernetes mode (create it with up --k8s)\n";
    return 1;
  }
  std::cout << lab.kubeconfig_path() << "\n";
  return 0;
}

int cmd_down(const std::string& name) {
  validate_lab_name(name);
  LabLock lock(name);
  bool anything = fs::exists(lab_dir(name));
  for (const auto& ns : list_netns())
    if (ns.rfind("cpp-" + name + "-", 0) == 0) anything = true;
  if (!anything && !fs::exists(std::string(kPinRoot) + "/" + name)) {
    std::cout << "lab " << name << ": nothing to remove\n";
    lock.release_and_remove();
    return 0;
  }
  auto problems = teardown_locked(name, true);
  lock.release_and_remove();
  for (const auto& p : problems) std::cerr << "cilium-lab down: " << p << "\n";
  if (!problems.empty()) return 1;
  std::cout << "lab " << name << " removed\n";
  return 0;
}

// ---- exec -----------------------------------------------------------------------

int cmd_exec(const std::string& name, const std::string& target, const std::vector<std::string>& argv) {
  LabState lab = load_lab(name);
  std::string path;
  if (auto* p = lab.find_pod(target)) path = p->netns_path();
  else if (auto* n = lab.find_node(target)) path = n->netns_path();
  else if (target == "underlay") path = netns_path(lab.underlay_netns());
  else if (target == "world") path = lab.world_netns_path();
  for (const auto* group : {&lab.etcd, &lab.operators, &lab.kubeapi})
    for (const auto& d : *group)
      if (d.name == target) path = d.netns_path();
  if (path.empty()) {
    std::cerr << "cilium-lab exec: no pod or node named \"" << target << "\" in lab " << name << "\n";
    return 1;
  }
  if (argv.empty()) {
    std::cerr << "cilium-lab exec: no command given (usage: cilium-lab -n " << name << " exec " << target
              << " -- CMD ARGS...)\n";
    return 1;
  }
  std::string nsenter = find_program("nsenter");
  if (nsenter.empty()) {
    std::cerr << "cilium-lab exec: nsenter not found in PATH\n";
    return 1;
  }
  // Pods' and nodes' processes live in their node's cgroup, where the
  // agent attaches socket LB.
  std::string cgroup;
  if (auto* p = lab.find_pod(target)) cgroup = node_cgroup(lab, *lab.find_node(p->node));
  else if (auto* n = lab.find_node(target)) cgroup = node_cgroup(lab, *n);
  if (!cgroup.empty() && !join_cgroup(cgroup)) {
    std::cerr << "cilium-lab exec: cannot join cgroup " << cgroup << ": " << std::strerror(errno) << "\n";
    return 1;
  }
  std::vector<std::string> args{"nsenter", "--net=" + path};
  args.insert(args.end(), argv.begin(), argv.end());
  std::vector<char*> cargs;
  for (auto& a : args) cargs.push_back(a.data());
  cargs.push_back(nullptr);
  std::cout.flush();
  ::execv(nsenter.c_str(), cargs.data());
  std::cerr << "cilium-lab exec: " << nsenter << ": " << std::strerror(errno) << "\n";
  return 127;
}

// ---- apply / delete ---------------------------------------------------------------

namespace {

bool is_policy_kind(const std::string& kind) {
  return kind == "CiliumNetworkPolicy" || kind == "CiliumClusterwideNetworkPolicy" || kind == "NetworkPolicy" ||
         kind == "CiliumCIDRGroup";
}

// Kinds the agents list in GET /v1/policy once enforced (CIDR groups are
// folded into the policies that use them).
bool enforced_kind(const std::string& kind) { return is_policy_kind(kind) && kind != "CiliumCIDRGroup"; }

// Policies are checked with the agents' own parser before anything is
// stored, so a policy that would be rejected never reaches the store.
void validate_policy(const json& obj) {
  if (obj["kind"] == "CiliumCIDRGroup")
    policy::parse_cidr_group(obj);
  else
    policy::parse_policy(obj);
}

// Whether `node`'s agent has (or, when gone, no longer has) the policy in
// force, down to the resourceVersion that was stored.
bool agent_realized(const NodeState& node, const store::ResourceKey& key, const std::string& version, bool gone) {
  auto j = agent_get(node, "/v1/policy", 2000);
  if (!j) return false;
  uint64_t realized = (*j)["realized-revision"].get<uint64_t>();
  for (const auto& p : (*j)["policies"]) {
    if (p["kind"] == key.kind && p["namespace"] == key.ns && p["name"] == key.name)
      return !gone && p["resourceVersion"] == version && p["revision"].get<uint64_t>() <= realized;
  }
  return gone;
}

// Waits (generous deadline) until every running agent enforces the change,
// so the next command sees the new policy in the datapath.
bool wait_policy_realized(const LabState& lab, const store::ResourceKey& key, const std::string& version, bool gone) {
  auto deadline = Clock::now() + std::chrono::seconds(60);
  for (const auto& n : lab.nodes) {
    if (!process_alive(n.agent)) continue;
    while (!agent_realized(n, key, version, gone)) {
      if (Clock::now() > deadline) {
        std::cerr << "cilium-lab: " << n.name << " did not enforce " << key.str() << " in time\n";
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return true;
}

}  // namespace

int cmd_apply(const std::string& name, const std::vector<std::string>& files, bool remove, bool ignore_not_found) {
  LabState lab = load_lab(name);
  const char* verb = remove ? "delete" : "apply";
  std::vector<json> objects;
  std::vector<std::string> errors;
  for (const auto& file : files) {
    std::optional<std::string> text;
    if (file == "-") {
      std::ostringstream ss;
      ss << std::cin.rdbuf();
      text = ss.str();
    } else {
      text = cpp::read_file(file);
    }
    if (!text) {
      errors.push_back(file + ": cannot read file");
      continue;
    }
    std::vector<store::YamlDocument> docs;
    try {
      docs = store::parse_yaml_stream(*text);
    } catch (const std::exception& e) {
      errors.push_back(file + ": " + e.what());
      continue;
    }
    if (docs.empty()) errors.push_back(file + ": no objects in file");
    for (const auto& d : docs) {
      try {
        auto obj = store::normalize_resource(d.value, d.index);
        if (!remove && is_policy_kind(obj["kind"])) {
          try {
            validate_policy(obj);
          } catch (const policy::PolicyError& e) {
            throw std::invalid_argument("document " + std::to_string(d.index) + ": " + e.what());
          }
        }
        objects.push_back(std::move(obj));
      } catch (const std::exception& e) {
        errors.push_back(file + ": " + e.what() + " (document starts at line " + std::to_string(d.line) + ")");
      }
    }
  }
  if (!errors.empty()) {
    for (const auto& e : errors) std::cerr << "cilium-lab " << verb << ": " << e << "\n";
    std::cerr << "cilium-lab " << verb << ": nothing was " << (remove ? "deleted" : "applied") << "\n";
    return 1;
  }
  auto store_ptr = open_lab_store(lab);
  store::ResourceStore& store = *store_ptr;
  // Services are admitted as the API server would (addresses, node ports,
  // validation) before anything is stored, so one bad Service stores nothing.
  if (!remove) {
    ServiceAdmission admission(store);
    for (auto& obj : objects) {
      if (obj["kind"] != "Service") continue;
      try {
        obj = admission.admit(obj);
      } catch (const std::exception& e) {
        errors.push_back(store::display_name(obj) + ": " + e.what());
      }
    }
    if (!errors.empty()) {
      for (const auto& e : errors) std::cerr << "cilium-lab apply: " << e << "\n";
      std::cerr << "cilium-lab apply: nothing was applied\n";
      return 1;
    }
  }
  int rc = 0;
  bool services_touched = false;
  for (const auto& obj : objects) {
    if (obj["kind"] == "Service") services_touched = true;
    std::string shown = store::display_name(obj);
    if (remove) {
      auto key = store::key_of(obj);
      if (store.remove(key.kind, key.ns, key.name)) {
        std::cout << shown << " deleted\n";
        if (enforced_kind(key.kind) && !wait_policy_realized(lab, key, "", true)) rc = 1;
      } else if (ignore_not_found) {
        std::cout << shown << " not found\n";
      } else {
        std::cerr << "cilium-lab delete: " << shown << " not found\n";
        rc = 1;
      }
    } else {
      auto r = store.put(obj);
      std::cout << shown << " " << store::to_string(r.outcome) << "\n";
      if (enforced_kind(obj["kind"]) &&
          !wait_policy_realized(lab, store::key_of(r.object), r.object["metadata"].value("resourceVersion", ""), false))
        rc = 1;
    }
  }
  if (services_touched) {
    std::set<std::string> services;
    for (const auto& svc : sync_endpoint_slices(store)) services.insert(svc);
    for (const auto& obj : objects)
      if (obj["kind"] == "Service") services.insert(store::key_of(obj).ns + "/" + store::key_of(obj).name);
    for (const auto& svc : services)
      if (!wait_service_realized(lab, store, svc)) rc = 1;
  }
  return rc;
}

// ---- node del / node restart ------------------------------------------------------

int cmd_node_del(const std::string& name, const std::string& node_name) {
  LabLock lock(name);
  LabState lab = load_lab(name);
  NodeState* node = lab.find_node(node_name);
  if (!node) {
    std::cerr << "cilium-lab node del: no node named \"" << node_name << "\" in lab " << name << "\n";
    return 1;
  }
  std::vector<std::string> problems;
  for (const auto& pod : std::vector<PodState>(lab.pods)) {
    if (pod.node != node_name) continue;
    for (const auto& e : remove_pod(lab, pod)) problems.push_back("pod " + pod.name + ": " + e);
    std::erase_if(lab.pods, [&](const PodState& p) { return p.name == pod.name; });
  }
  if (node->agent.pid > 0 && !stop_process(node->agent, std::chrono::seconds(10)))
    problems.push_back("cilium-agent pid " + std::to_string(node->agent.pid) + " did not stop");
  // What a cluster admin does when a machine goes away: delete its Node
  // and CiliumNode; every other agent and the operator react to that.
  auto store = open_lab_store(lab);
  store->remove("CiliumNode", "", node_name);
  store->remove("Node", "", node_name);
  follow_services(lab, *store);
  std::set<std::string> namespaces{node->netns};
  for (const auto& ns : list_netns())
    if (ns.rfind(node->netns + "-", 0) == 0) namespaces.insert(ns);
  for (const auto& ns : namespaces) {
    std::string err;
    if (netns_exists(ns) && !delete_netns(ns, &err)) problems.push_back("delete namespace " + ns + ": " + err);
  }
  std::string u = lab.underlay_netns();
  run({"ip", "-n", u, "link", "del", node->underlay_ifname});
  remove_tree(std::string(kPinRoot) + "/" + lab.name + "/" + node_name, problems);
  remove_tree(node->dir, problems);
  remove_cgroup_tree(node_cgroup(lab, *node), problems);
  std::erase_if(lab.nodes, [&](const NodeState& n) { return n.name == node_name; });
  save_lab(lab);
  for (const auto& p : problems) std::cerr << "cilium-lab node del: " << p << "\n";
  std::cout << "node " << node_name << " removed\n";
  return problems.empty() ? 0 : 1;
}

int cmd_node_restart(const std::string& name, const std::string& node_name, bool kill, int timeout_s) {
  LabLock lock(name);
  LabState lab = load_lab(name);
  NodeState* node = lab.find_node(node_name);
  if (!node) {
    std::cerr << "cilium-lab node restart: no node named \"" << node_name << "\" in lab " << name << "\n";
    return 1;
  }
  if (kill) {
    if (process_alive(node->agent)) ::kill(node->agent.pid, SIGKILL);
    stop_process(node->agent, std::chrono::seconds(5));
  } else if (!stop_process(node->agent, std::chrono::seconds(10))) {
    std::cerr << "cilium-lab node restart: cilium-agent pid " << node->agent.pid << " did not stop\n";
    return 1;
  }
  start_agent(lab, *node);
  save_lab(lab);
  LabState only = lab;
  only.nodes = {*node};
  try {
    wait_agents_ready(only, timeout_s);
  } catch (const std::exception& e) {
    std::cerr << "cilium-lab node restart: " << e.what() << "\n";
    return 1;
  }
  std::cout << "cilium-agent on " << node_name << " restarted (pid " << node->agent.pid << ")\n";
  return 0;
}

// ---- status ---------------------------------------------------------------------

int cmd_status(const std::string& name, bool as_json) {
  LabState lab = load_lab(name);
  json out{{"name", lab.name}, {"dir", lab.dir()}, {"store_dir", lab.store_dir}, {"bin_dir", lab.bin_dir}};
  out["underlay"] = {{"netns", lab.underlay_netns()}, {"netns_path", netns_path(lab.underlay_netns())},
                     {"bridge", "br0"}, {"exists", netns_exists(lab.underlay_netns())}};
  out["kvstore"] = lab.kvstore;
  out["world"] = {{"netns", lab.world_netns()}, {"netns_path", lab.world_netns_path()}, {"ipv4", kWorldIpv4},
                  {"ipv6", kWorldIpv6}, {"exists", netns_exists(lab.world_netns())}};
  auto daemons = [](const std::vector<DaemonState>& ds) {
    json a = json::array();
    for (const auto& d : ds)
      a.push_back({{"name", d.name}, {"netns", d.netns}, {"netns_path", d.netns_path()}, {"ipv4", d.ipv4},
                   {"log", d.log}, {"pid", d.proc.pid}, {"alive", process_alive(d.proc)}});
    return a;
  };
  out["etcd"] = daemons(lab.etcd);
  out["etcd_endpoints"] = lab.etcd_endpoints();
  out["operators"] = daemons(lab.operators);
  out["kubeapi"] = daemons(lab.kubeapi);
  if (lab.kvstore == "k8s") {
    out["kubeconfig"] = lab.kubeconfig_path();
    out["kubeapi_server"] = std::string("https://") + kKubeApiIpv4 + ":" + std::to_string(kKubeApiPort);
    out["kubeapi_control"] = std::string("http://") + kKubeApiIpv4 + ":" + std::to_string(kKubeApiControlPort);
  }
  out["nodes"] = json::array();
  for (const auto& n : lab.nodes) {
    bool alive = process_alive(n.agent);
    bool healthy = alive && agent_healthy(n);
    json node{{"name", n.name},
              {"netns", n.netns},
              {"netns_path", n.netns_path()},
              {"netns_exists", netns_exists(n.netns)},
              {"ipv4", n.ipv4},
              {"ipv6", n.ipv6},
              {"underlay_ips", {n.ipv4, n.ipv6}},
              {"pod_cidrs", {n.pod_cidr_ipv4, n.pod_cidr_ipv6}},
              {"router_ipv4", n.router_ipv4},
              {"router_ipv6", n.router_ipv6},
              {"config_dir", n.config_dir},
              {"state_dir", n.state_dir},
              {"socket", n.socket},
              {"hubble_socket", n.state_dir + "/hubble.sock"},
              {"hubble_address", n.ipv4 + ":4244"},
              {"metrics_address", n.ipv4 + ":9962"},
              {"log", n.log},
              {"conflist", n.conflist},
              {"pin_dir", std::string(kPinRoot) + "/" + lab.name + "/" + n.name}};
    node["agent"] = {{"pid", n.agent.pid}, {"alive", alive}, {"healthy", healthy}};
    out["nodes"].push_back(node);
  }
  out["pods"] = json::array();
  for (const auto& p : lab.pods) {
    int ep = p.endpoint_id;
    if (auto* n = lab.find_node(p.node); n && process_alive(n->agent))
      if (auto id = agent_endpoint_id(*n, p.container_id)) ep = *id;
    json pod{{"name", p.name},
             {"namespace", p.ns},
             {"node", p.node},
             {"netns", p.netns},
             {"netns_path", p.netns_path()},
             {"netns_exists", netns_exists(p.netns)},
             {"container_id", p.container_id},
             {"ipv4", p.ipv4},
             {"ipv6", p.ipv6},
             {"endpoint_id", ep},
             {"labels", p.labels}};
    out["pods"].push_back(pod);
  }
  if (as_json) {
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::string store_text = "store " + lab.store_dir;
  if (lab.kvstore == "etcd") {
    store_text = "etcd";
    for (const auto& e : lab.etcd_endpoints()) store_text += " " + e;
  } else if (lab.kvstore == "k8s") {
    store_text = "Kubernetes API " + out["kubeapi_server"].get<std::string>() + ", kubeconfig " + lab.kubeconfig_path();
  }
  std::cout << "Lab " << lab.name << " (" << lab.dir() << ", " << store_text << ")\n\n";
  std::vector<std::vector<std::string>> rows{{"NODE", "NETNS", "UNDERLAY", "AGENT", "PODCIDRS"}};
  for (const auto& n : out["nodes"]) {
    std::string agent = "not started";
    if (n["agent"]["pid"].get<int>() > 0)
      agent = "pid " + std::to_string(n["agent"]["pid"].get<int>()) + " " +
              (n["agent"]["healthy"].get<bool>() ? "ready" : n["agent"]["alive"].get<bool>() ? "alive" : "DEAD");
    rows.push_back({n["name"].get<std::string>(), n["netns_path"].get<std::string>(),
                    n["ipv4"].get<std::string>() + " " + n["ipv6"].get<std::string>(), agent,
                    n["pod_cidrs"][0].get<std::string>() + " " + n["pod_cidrs"][1].get<std::string>()});
  }
  print_table(rows);
  std::cout << "\n";
  if (!lab.etcd.empty() || !lab.operators.empty() || !lab.kubeapi.empty()) {
    rows = {{"DAEMON", "NETNS", "ADDRESS", "PROCESS"}};
    for (const auto* group : {&out["etcd"], &out["operators"], &out["kubeapi"]})
      for (const auto& d : *group)
        rows.push_back({d["name"].get<std::string>(), d["netns_path"].get<std::string>(), d["ipv4"].get<std::string>(),
                        "pid " + std::to_string(d["pid"].get<int>()) + (d["alive"].get<bool>() ? " running" : " DEAD")});
    print_table(rows);
    std::cout << "\n";
  }
  if (lab.pods.empty()) {
    std::cout << "no pods (add one with: cilium-lab -n " << lab.name << " pod add node1 NAME)\n";
    return 0;
  }
  rows = {{"POD", "NAMESPACE", "NODE", "NETNS", "IPV4", "IPV6", "ENDPOINT"}};
  for (const auto& p : out["pods"]) {
    int ep = p["endpoint_id"].get<int>();
    auto dash = [](const std::string& v) { return v.empty() ? std::string("-") : v; };
    rows.push_back({p["name"].get<std::string>(), p["namespace"].get<std::string>(), p["node"].get<std::string>(),
                    p["netns_path"].get<std::string>(), dash(p["ipv4"].get<std::string>()),
                    dash(p["ipv6"].get<std::string>()), ep > 0 ? std::to_string(ep) : "-"});
  }
  print_table(rows);
  return 0;
}

}  // namespace cpp::lab
