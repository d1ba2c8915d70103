#pragma once
// The persisted description of a lab (/run/ciliumpp/lab/<L>/lab.json): each
// cilium-lab command is a separate process that loads it, acts and saves it.
#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lab/proc.h"

namespace cpp::lab {

inline constexpr const char* kLabRoot = "/run/ciliumpp/lab";
inline constexpr const char* kPinRoot = "/sys/fs/bpf/ciliumpp";
inline constexpr const char* kCgroupRoot = "/sys/fs/cgroup/unified/ciliumpp";

struct NodeState {
  std::string name;  // "node1"
  int index = 0;     // 1-based
  std::string netns; // "cpp-L-node1"
  std::string ipv4;  // underlay addresses on eth0
  std::string ipv6;
  std::string underlay_ifname;  // host side of the node's veth, in the underlay namespace
  std::string dir;              // /run/ciliumpp/lab/L/node1
  std::string config_dir, state_dir, socket, log, conflist;
  std::string pod_cidr_ipv4, pod_cidr_ipv6;
  std::string router_ipv4, router_ipv6;  // from the agent's /v1/status once it is up
  ProcessRef agent;                      // pid 0 = not started

  std::string netns_path() const;
};

// A lab daemon that is not a node agent: an etcd member or an operator.
struct DaemonState {
  std::string name;   // "etcd1", "operator1"
  std::string netns;  // "cpp-L-etcd1"
  std::string ipv4;   // on the underlay
  std::string dir;    // data/config directory
  std::string log;
  ProcessRef proc;

  std::string netns_path() const;
};

struct PodState {
  std::string name;
  std::string ns = "default";  // Kubernetes namespace
  std::string node;
  std::string netns;  // "cpp-L-<pod>"
  std::string container_id;
  std::string ifname = "eth0";
  std::string ipv4, ipv6;
  int endpoint_id = 0;  // 0 = unknown
  std::map<std::string, std::string> labels;
  nlohmann::json ports = nlohmann::json::array();  // container ports: [{name, containerPort, protocol}]
  nlohmann::json cni_result;  // the ADD result, passed as prevResult on DEL

  std::string netns_path() const;
};

struct LabState {
  std::string name;
  std::string bin_dir;
  std::string store_dir;
  bool agents = true;  // false for `up --no-agent`
  // "etcd": agents share an etcd cluster (lab namespaces etcd<j>) and get
  // their PodCIDRs from the operator; "directory": a shared store directory
  // and fixed PodCIDRs; "k8s": the Kubernetes API (fixture) and fixed PodCIDRs.
  std::string kvstore = "directory";
  std::vector<DaemonState> etcd;
  std::vector<DaemonState> operators;
  // "k8s": the API server fixture (one entry, namespace kubeapi) holds every
  // object; agents reach it with kubeconfig_path().
  std::vector<DaemonState> kubeapi;
  std::vector<NodeState> nodes;
  std::vector<PodState> pods;

  std::string dir() const;  // /run/ciliumpp/lab/L
  std::string underlay_netns() const { return "cpp-" + name + "-underlay"; }
  std::string netns_prefix() const { return "cpp-" + name + "-"; }
  // "The world": a namespace on the underlay outside the cluster.
  std::string world_netns() const { return "cpp-" + name + "-world"; }
  std::string world_netns_path() const { return "/run/netns/" + world_netns(); }
  std::string etcd_config_path() const { return dir() + "/etcd.config"; }
  std::string operator_config_dir() const { return dir() + "/operator/config"; }
  std::string kubeconfig_path() const { return dir() + "/kubeapi/kubeconfig"; }
  // Client URLs of the etcd members.
  std::vector<std::string> etcd_endpoints() const;

  NodeState* find_node(const std::string& n);
  PodState* find_pod(const std::string& n);

  nlohmann::json to_json() const;
  static LabState from_json(const nlohmann::json& j);
};

// Lab names become part of namespace names and directory paths; '-' is not
// allowed so that the prefix "cpp-<L>-" belongs to exactly one lab.
void validate_lab_name(const std::string& name);

// The node's cgroup (v2) under kCgroupRoot: its agent attaches socket LB
// there, and `cilium-lab exec` runs pod and node commands inside it.
std::string node_cgroup(const LabState& lab, const NodeState& node);
// Moves the calling process into `cgroup`; false with errno set on failure.
bool join_cgroup(const std::string& cgroup);
// Pod and node names: lower-case letters, digits and '-', 1..40 characters.
void validate_object_name(const std::string& what, const std::string& name);

std::string lab_dir(const std::string& name);
std::string lab_state_path(const std::string& name);
bool lab_exists(const std::string& name);
// Throws with a helpful message when the lab does not exist or lab.json is unreadable.
LabState load_lab(const std::string& name);
std::optional<LabState> try_load_lab(const std::string& name);
void save_lab(const LabState& lab);

// Exclusive advisory lock serializing the commands that change one lab.
class LabLock {
 public:
  explicit LabLock(const std::string& name);
  ~LabLock();
  LabLock(const LabLock&) = delete;
  LabLock& operator=(const LabLock&) = delete;
  void release_and_remove();  // used by `down`

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace cpp::lab
