#include "lab/cluster.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <chrono>
#include <stdexcept>
#include <thread>

#include "common/files.h"
#include "k8s/client/kube_store.h"
#include "lab/kube_api.h"
#include "lab/veth_xdp.h"
#include "lab/netns.h"
#include "lab/proc.h"
#include "kvstore/etcd_client.h"
#include "store/etcd_store.h"

namespace cpp::lab {

using Clock = std::chrono::steady_clock;

namespace {

void ip_in(const std::string& ns, std::vector<std::string> args) {
  std::vector<std::string> argv{"ip", "-n", ns};
  argv.insert(argv.end(), args.begin(), args.end());
  run_checked(argv);
}

std::string nsenter_path() {
  std::string p = find_program("nsenter");
  if (p.empty()) throw std::runtime_error("nsenter not found in PATH");
  return p;
}

// {"health":"true"} from the member's client URL, asked from inside its namespace.
bool etcd_member_healthy(const DaemonState& m) {
  RunOptions o;
  o.netns_path = m.netns_path();
  o.timeout = std::chrono::milliseconds(3000);
  auto r = run({"curl", "-s", "-m", "2", "http://" + m.ipv4 + ":2379/health"}, o);
  return r.exit_code == 0 && r.out.find("\"true\"") != std::string::npos;
}

// Keys that put a component on the lab's etcd, or on its API server.
std::map<std::string, std::string> kvstore_config(const LabState& lab) {
  if (lab.kvstore == "k8s")
    return {
        {"k8s-kubeconfig-path", lab.kubeconfig_path()},
        {"identity-allocation-mode", "crd"},
        {"ipam", "cluster-pool"},
    };
  return {
      {"kvstore", "etcd"},
      {"kvstore-opt", "{\"etcd.config\": \"" + lab.etcd_config_path() + "\"}"},
      {"identity-allocation-mode", "kvstore"},
      {"ipam", "cluster-pool"},
  };
}

void start_etcd_member(const LabState& lab, DaemonState& m) {
  std::string cluster;
  for (const auto& x : lab.etcd) cluster += (cluster.empty() ? "" : ",") + x.name + "=http://" + x.ipv4 + ":2380";
  std::string url = "http://" + m.ipv4;
  m.proc = spawn_daemon({nsenter_path(), "--net=" + m.netns_path(), "etcd", "--name", m.name, "--data-dir",
                         m.dir + "/data", "--listen-client-urls", url + ":2379", "--advertise-client-urls",
                         url + ":2379", "--listen-peer-urls", url + ":2380", "--initial-advertise-peer-urls",
                         url + ":2380", "--initial-cluster", cluster, "--initial-cluster-state", "new",
                         "--initial-cluster-token", "cpp-" + lab.name},
                        m.log);
}

void start_operator(const LabState& lab, DaemonState& op) {
  op.proc = spawn_daemon({nsenter_path(), "--net=" + op.netns_path(), lab.bin_dir + "/cilium-operator-generic",
                          "--config-dir", lab.operator_config_dir()},
                         op.log);
}

}  // namespace

void attach_to_underlay(const LabState& lab, const std::string& netns, const std::string& underlay_ifname,
                        const std::string& ipv4, const std::string& ipv6) {
  std::string u = lab.underlay_netns();
  create_netns(netns);
  ip_in(u, {"link", "add", underlay_ifname, "type", "veth", "peer", "name", "eth0", "netns", netns});
  ip_in(u, {"link", "set", underlay_ifname, "master", "br0"});
  ip_in(u, {"link", "set", underlay_ifname, "up"});
  ip_in(netns, {"link", "set", "lo", "up"});
  ip_in(netns, {"addr", "add", ipv4 + "/24", "dev", "eth0"});
  if (!ipv6.empty()) ip_in(netns, {"-6", "addr", "add", ipv6 + "/64", "dev", "eth0", "nodad"});
  ip_in(netns, {"link", "set", "eth0", "up"});
}

DaemonState make_daemon(const LabState& lab, const std::string& name, int underlay_host, const std::string& log_name) {
  DaemonState d;
  d.name = name;
  d.netns = lab.netns_prefix() + name;
  d.ipv4 = "192.0.2." + std::to_string(underlay_host);
  d.dir = lab.dir() + "/" + name;
  d.log = d.dir + "/" + log_name;
  make_dirs(d.dir);
  return d;
}

void start_etcd_cluster(LabState& lab, int members, int timeout_s) {
  if (members < 1 || members > kMaxEtcdMembers)
    throw std::invalid_argument("--etcd-members must be between 1 and " + std::to_string(kMaxEtcdMembers));
  if (find_program("etcd").empty()) throw std::runtime_error("etcd not found in PATH (apt-get install etcd-server)");
  for (int j = 1; j <= members; ++j) lab.etcd.push_back(make_daemon(lab, "etcd" + std::to_string(j), 2 + j, "etcd.log"));
  save_lab(lab);
  for (auto& m : lab.etcd) attach_to_underlay(lab, m.netns, "v" + m.name, m.ipv4, "");
  for (auto& m : lab.etcd) start_etcd_member(lab, m);
  save_lab(lab);

  std::string cfg = "endpoints:\n";
  for (const auto& e : lab.etcd_endpoints()) cfg += "- " + e + "\n";
  write_file_atomic(lab.etcd_config_path(), cfg);

  auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
  for (const auto& m : lab.etcd) {
    while (!etcd_member_healthy(m)) {
      if (!process_alive(m.proc))
        throw std::runtime_error("etcd member " + m.name + " exited during start-up; last lines of " + m.log + ":\n" +
                                 tail_file(m.log, 20));
      if (Clock::now() > deadline)
        throw std::runtime_error("etcd member " + m.name + " not healthy after " + std::to_string(timeout_s) +
                                 " s; last lines of " + m.log + ":\n" + tail_file(m.log, 20));
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
}

bool pod_cidrs_from_operator(const LabState& lab) {
  return lab.kvstore == "etcd" || (lab.kvstore == "k8s" && !lab.operators.empty());
}

std::map<std::string, std::string> etcd_mode_agent_config(const LabState& lab) {
  auto cfg = kvstore_config(lab);
  cfg["enable-ipv4-masquerade"] = "true";
  cfg["enable-ipv6-masquerade"] = "true";
  return cfg;
}

void start_operators(LabState& lab, int count, const std::map<std::string, std::string>& extra_config) {
  if (count < 1 || count > kMaxOperators)
    throw std::invalid_argument("--operators must be between 1 and " + std::to_string(kMaxOperators));
  auto cfg = kvstore_config(lab);
  cfg.insert({
      {"cluster-name", lab.name},
      {"enable-ipv4", "true"},
      {"enable-ipv6", "true"},
      {"cluster-pool-ipv4-cidr", kClusterPoolIpv4},
      {"cluster-pool-ipv4-mask-size", kClusterPoolIpv4Mask},
      {"cluster-pool-ipv6-cidr", kClusterPoolIpv6},
      {"cluster-pool-ipv6-mask-size", kClusterPoolIpv6Mask},
  });
  for (const auto& [k, v] : extra_config) cfg[k] = v;
  make_dirs(lab.operator_config_dir());
  for (const auto& [k, v] : cfg) write_file_atomic(lab.operator_config_dir() + "/" + k, v);
  for (int k = 1; k <= count; ++k) {
    lab.operators.push_back(make_daemon(lab, "operator" + std::to_string(k), 5 + k, "operator.log"));
    const DaemonState& op = lab.operators.back();
    save_lab(lab);
    attach_to_underlay(lab, op.netns, "v" + op.name, op.ipv4, "");
    start_operator(lab, lab.operators.back());
    save_lab(lab);
  }
}

void build_world(const LabState& lab) {
  attach_to_underlay(lab, lab.world_netns(), "vworld", kWorldIpv4, kWorldIpv6);
  // The world talks to NodePorts that may be XDP-accelerated: full checksums.
  set_tx_checksum(lab.world_netns(), "eth0", false);
}

void route_world_to_nodes(const LabState& lab) {
  // LoadBalancer and external IPs reach the cluster through node1, as a
  // static route on an upstream router would send them (BGP comes later).
  if (!lab.nodes.empty()) {
    const NodeState& first = lab.nodes.front();
    for (const char* r : {kLbRangeIpv4, kExternalRangeIpv4})
      ip_in(lab.world_netns(), {"route", "replace", r, "via", first.ipv4});
    for (const char* r : {kLbRangeIpv6, kExternalRangeIpv6})
      ip_in(lab.world_netns(), {"-6", "route", "replace", r, "via", first.ipv6});
  }
  for (const auto& n : lab.nodes) {
    if (!n.pod_cidr_ipv4.empty()) ip_in(lab.world_netns(), {"route", "replace", n.pod_cidr_ipv4, "via", n.ipv4});
    if (!n.pod_cidr_ipv6.empty())
      ip_in(lab.world_netns(), {"-6", "route", "replace", n.pod_cidr_ipv6, "via", n.ipv6});
  }
}

// etcd and the API server live inside the lab, unreachable from the root namespace. The gRPC
// client opens its connections from its own threads, which inherit the
// namespace of the thread that starts them, so cilium-lab moves its main
// thread onto the underlay (address .1 on br0) before the first etcd use
// and stays there; everything else it does names namespaces explicitly.
void enter_underlay(const LabState& lab) {
  static bool entered = false;
  if (entered) return;
  std::string path = netns_path(lab.underlay_netns());
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("open " + path + ": " + std::strerror(errno));
  int rc = ::setns(fd, CLONE_NEWNET);
  int err = errno;
  ::close(fd);
  if (rc != 0) throw std::runtime_error("setns " + path + ": " + std::strerror(err));
  entered = true;
}

std::unique_ptr<store::ResourceStore> open_lab_store(const LabState& lab) {
  if (lab.kvstore == "k8s") {
    enter_underlay(lab);
    return std::make_unique<k8s::KubeStore>(lab_kube_client(lab));
  }
  if (lab.kvstore != "etcd") return std::make_unique<store::DirectoryStore>(lab.store_dir);
  enter_underlay(lab);
  kvstore::EtcdOptions opts;
  opts.endpoints = lab.etcd_endpoints();
  return std::make_unique<store::EtcdStore>(std::make_shared<kvstore::EtcdClient>(opts));
}

std::vector<std::string> stop_control_plane(const LabState& lab) {
  std::vector<std::string> problems;
  for (const auto& op : lab.operators)
    if (op.proc.pid > 0 && !stop_process(op.proc, std::chrono::seconds(5)))
      problems.push_back(op.name + " (pid " + std::to_string(op.proc.pid) + ") did not stop");
  for (const auto& a : lab.kubeapi)
    if (a.proc.pid > 0 && !stop_process(a.proc, std::chrono::seconds(3)))
      problems.push_back(a.name + " (pid " + std::to_string(a.proc.pid) + ") did not stop");
  for (const auto& m : lab.etcd)
    if (m.proc.pid > 0 && !stop_process(m.proc, std::chrono::milliseconds(0)))
      problems.push_back(m.name + " (pid " + std::to_string(m.proc.pid) + ") did not stop");
  return problems;
}

}  // namespace cpp::lab
