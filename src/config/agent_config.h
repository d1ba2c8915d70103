#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/ip.h"
#include "config/config_dir.h"

namespace cpp::config {

// The agent's typed view of its configuration. Defaults follow upstream
// Cilium where a key exists there.
struct AgentConfig {
  std::string node_name;
  std::string cluster_name = "default";
  bool enable_ipv4 = true;
  bool enable_ipv6 = false;
  std::optional<IpPrefix> ipv4_range;  // this node's IPv4 PodCIDR
  std::optional<IpPrefix> ipv6_range;  // this node's IPv6 PodCIDR
  // `ipam`: with "cluster-pool" and neither range configured, the PodCIDRs
  // come from the operator through the node's CiliumNode.
  std::string ipam_mode;
  std::string identity_allocation_mode = "crd";  // "kvstore": ids allocated in etcd
  // `kvstore`: "" (resources in local-store-dir) or "etcd"; `kvstore-opt`
  // is upstream's JSON map, of which "etcd.config" (path of the etcd.config
  // YAML) is read.
  std::string kvstore;
  std::string kvstore_etcd_config;
  // Kubernetes mode: resources are API objects (src/k8s/client KubeStore).
  // `k8s-kubeconfig-path` names the kubeconfig; `k8s-api-server` overrides
  // its server URL. Neither set: not in K8s mode (unless in a pod, see
  // store_select). QPS/burst as upstream's defaults.
  std::string k8s_kubeconfig_path;
  std::string k8s_api_server;
  double k8s_client_qps = 5;
  int k8s_client_burst = 10;
  // How long the API may be unreachable before /healthz says not-ready
  // (upstream's k8s-heartbeat-timeout).
  std::chrono::milliseconds k8s_heartbeat_timeout{30000};
  // Remove the node.cilium.io/agent-not-ready taint from the Node once ready.
  bool remove_cilium_node_taints = true;
  std::string routing_mode = "tunnel";
  int mtu = 0;  // 0: derive from the underlay (minus VXLAN overhead in tunnel mode)
  std::string bpf_root = "/sys/fs/bpf";
  std::string state_dir = "/var/run/cilium/state";
  std::string socket_path = "/var/run/cilium/cilium.sock";
  std::string local_store_dir = "/var/run/cilium/store";
  std::string cni_conf_path;  // write-cni-conf-when-ready; empty = do not write
  std::string cni_log_file = "/var/run/cilium/cilium-cni.log";
  bool debug = false;
  // Masquerading of pod -> outside-the-cluster traffic to the node's address,
  // in BPF on the native device (src/agent/masquerade.h). ciliumpp has no
  // iptables masquerading, so enable-bpf-masquerade defaults to true: with
  // upstream's defaults (masquerade on, BPF off) a user gets what upstream
  // does with iptables.
  bool enable_ipv4_masquerade = true;
  bool enable_ipv6_masquerade = false;
  bool enable_bpf_masquerade = true;
  std::optional<IpPrefix> ipv4_native_routing_cidr;  // never masqueraded
  std::optional<IpPrefix> ipv6_native_routing_cidr;
  std::vector<std::string> devices;  // `devices`: native devices; empty = the one with the node IP
  // Node health (upstream cilium-health): probes of every node and the node's
  // health port; the lxc_health endpoint in the namespace `health_netns`.
  bool enable_health_checking = true;
  bool enable_endpoint_health_checking = true;
  std::string health_netns = "cilium-health";
  std::chrono::milliseconds health_probe_interval{60000};

  // Services / kube-proxy replacement (issue 5). With kube_proxy_replacement
  // false nothing LB-related is loaded or attached.
  bool kube_proxy_replacement = false;
  // bpf-lb-sock: socket LB on cgroup_root. Unset: on with kube-proxy
  // replacement when cgroup-root is given (upstream turns it on with KPR).
  bool bpf_lb_sock = false;
  // trace-sock (upstream's socket-LB tracing option, on by default): the
  // socket LB reports each translation as a trace-sock event.
  bool trace_sock = true;
  std::string bpf_lb_acceleration = "disabled";  // native | best-effort | disabled
  std::string bpf_lb_algorithm = "random";       // random | maglev
  uint32_t bpf_lb_map_max = 65536;
  bool service_no_backend_reject = true;  // service-no-backend-response: reject (false: drop)
  bool enable_external_ips = true;
  bool bpf_lb_external_clusterip = false;
  uint16_t node_port_min = 30000, node_port_max = 32767;  // node-port-range
  // Hairpin (a pod reaching itself through a service, per-packet LB): the
  // source the request gets (upstream's options and defaults).
  IpAddr service_loopback_ipv4 = *IpAddr::parse("169.254.42.1");  // ipv4-service-loopback-address
  IpAddr service_loopback_ipv6 = *IpAddr::parse("fe80::1");       // ipv6-service-loopback-address
  std::string cgroup_root;  // must be below /sys/fs/cgroup/unified/ (checked where attached)

  // Observability (issue 6). Hubble reads the datapath's events into a ring
  // of flows and serves them on the listen address and the unix socket
  // (either empty = not served); metrics on prometheus-serve-addr.
  bool enable_hubble = false;
  std::string hubble_listen_address;  // upstream default "" (the seed sets ":4244")
  std::string hubble_socket_path = "/var/run/cilium/hubble.sock";
  uint32_t hubble_event_buffer_capacity = 4095;  // 2^n - 1, at most 65535
  std::string monitor_aggregation = "medium";   // none | low | medium | maximum
  std::string prometheus_serve_addr;             // "" = no metrics server
  // TLS on the TCP listener unless hubble-disable-tls (the unix socket is
  // always plaintext, as upstream); only when a certificate is configured.
  bool hubble_disable_tls = false;
  std::string hubble_tls_cert_file, hubble_tls_key_file, hubble_tls_client_ca_file;

  // BGP control plane (issue 7): sessions and announcements from
  // CiliumBGPPeeringPolicy; authSecretRef Secrets live in this namespace.
  bool enable_bgp_control_plane = false;
  std::string bgp_secrets_namespace = "kube-system";

  ConfigDir raw;

  bool pod_cidrs_from_operator() const { return ipam_mode == "cluster-pool" && !ipv4_range && !ipv6_range; }

  // <bpf-root>/ciliumpp/<cluster-name>/<node-name>: unique per node even
  // when several lab nodes share one bpffs.
  std::string pin_dir() const { return bpf_root + "/ciliumpp/" + cluster_name + "/" + node_name; }
};

// Builds the typed config; throws std::invalid_argument for values that are
// individually valid but make no sense together (e.g. IPv4 enabled, no range).
AgentConfig make_agent_config(const ConfigDir& dir, const std::string& node_name);

}  // namespace cpp::config
