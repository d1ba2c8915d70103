#include "config/agent_config.h"

#include <functional>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "config/duration.h"

namespace cpp::config {
namespace {

// `kvstore-opt`: a JSON object of strings, as upstream's ConfigMap has it
// ({"etcd.config": "/var/lib/etcd-config/etcd.config"}).
std::string etcd_config_of(const std::string& opt) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(opt);
  } catch (const std::exception& e) {
    throw std::invalid_argument("config key 'kvstore-opt': not valid JSON: " + std::string(e.what()));
  }
  if (!j.is_object())
    throw std::invalid_argument("config key 'kvstore-opt': expected a JSON object such as "
                                "{\"etcd.config\": \"/var/lib/etcd-config/etcd.config\"}");
  for (const auto& [k, v] : j.items())
    if (!v.is_string()) throw std::invalid_argument("config key 'kvstore-opt': value of \"" + k + "\" is not a string");
  return j.value("etcd.config", std::string());
}

// `devices`: names separated by commas or spaces, as upstream accepts them.
std::vector<std::string> split_devices(const std::string& v) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : v + ",") {
    if (ch == ',' || ch == ' ' || ch == '\t' || ch == '\n') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += ch;
    }
  }
  return out;
}

// `node-port-range`: "MIN,MAX" (upstream), "MIN-MAX" accepted too.
void parse_node_port_range(const std::string& v, AgentConfig& c) {
  auto sep = v.find_first_of(",-");
  auto num = [&](const std::string& t) -> long {
    if (t.empty() || t.size() > 5 || t.find_first_not_of("0123456789") != std::string::npos) return -1;
    return std::stol(t);
  };
  long lo = sep == std::string::npos ? -1 : num(v.substr(0, sep));
  long hi = sep == std::string::npos ? -1 : num(v.substr(sep + 1));
  if (lo < 1 || hi < 1 || lo > 65535 || hi > 65535 || lo > hi)
    throw std::invalid_argument("config key 'node-port-range': \"" + v +
                                "\" is not MIN,MAX with 1 <= MIN <= MAX <= 65535 (e.g. 30000,32767)");
  c.node_port_min = static_cast<uint16_t>(lo);
  c.node_port_max = static_cast<uint16_t>(hi);
}

// bpf-lb-mode: only snat is implemented. Upstream 1.15 refuses DSR (and
// hybrid, DSR for TCP) in tunnel routing mode: the backend's node would
// have to answer the client directly, which encapsulation does not allow.
void lb_mode_and_loopback(AgentConfig& c, const std::function<std::optional<std::string>(const char*)>& get) {
  if (auto v = get("bpf-lb-mode"); v && *v != "snat") {
    if (c.routing_mode == "tunnel")
      throw std::invalid_argument("config key 'bpf-lb-mode': \"" + *v +
                                  "\" cannot be used with routing-mode tunnel (as upstream: DSR needs native "
                                  "routing); use snat");
    throw std::invalid_argument("config key 'bpf-lb-mode': \"" + *v +
                                "\" is not supported by ciliumpp (only snat)");
  }
  auto addr = [&](const char* key, bool v6, IpAddr& out) {
    auto v = get(key);
    if (!v) return;
    auto a = IpAddr::parse(*v);
    if (!a || a->v6 != v6)
      throw std::invalid_argument(std::string("config key '") + key + "': \"" + *v + "\" is not an " +
                                  (v6 ? "IPv6" : "IPv4") + " address");
    out = *a;
  };
  addr("ipv4-service-loopback-address", false, c.service_loopback_ipv4);
  addr("ipv6-service-loopback-address", true, c.service_loopback_ipv6);
}

void lb_config(AgentConfig& c, const std::function<std::optional<std::string>(const char*)>& get) {
  if (auto v = get("kube-proxy-replacement")) {
    if (*v == "strict" || *v == "partial")
      throw std::invalid_argument("config key 'kube-proxy-replacement': \"" + *v +
                                  "\" is a value of old releases; use true (was strict) or false");
    c.kube_proxy_replacement = *v == "true";
  }
  auto flag = [&](const char* key, bool& out) {
    if (auto v = get(key)) out = *v == "true";
  };
  if (auto v = get("cgroup-root")) c.cgroup_root = *v;
  c.bpf_lb_sock = c.kube_proxy_replacement && !c.cgroup_root.empty();
  if (auto v = get("bpf-lb-sock")) {
    c.bpf_lb_sock = *v == "true";
    if (c.bpf_lb_sock && c.cgroup_root.empty())
      throw std::invalid_argument("config key 'bpf-lb-sock' is true but 'cgroup-root' is not set "
                                  "(a cgroup below /sys/fs/cgroup/unified/ for the socket LB hooks)");
  }
  const std::string base = "/sys/fs/cgroup/unified/";
  if (c.bpf_lb_sock && (c.cgroup_root.rfind(base, 0) != 0 || c.cgroup_root.size() <= base.size() ||
                        c.cgroup_root.find("/../") != std::string::npos ||
                        (c.cgroup_root.size() >= 3 && c.cgroup_root.compare(c.cgroup_root.size() - 3, 3, "/..") == 0)))
    throw std::invalid_argument("config key 'cgroup-root': \"" + c.cgroup_root + "\" is not a cgroup below " + base +
                                " (socket LB never attaches to the root cgroup or elsewhere)");
  if (auto v = get("bpf-lb-acceleration")) c.bpf_lb_acceleration = *v;
  if (auto v = get("bpf-lb-algorithm")) c.bpf_lb_algorithm = *v;
  if (auto v = get("bpf-lb-map-max")) {
    unsigned long n = std::stoul(*v);
    if (n < 16 || n > (1ul << 24))
      throw std::invalid_argument("config key 'bpf-lb-map-max': " + *v + " is outside 16..16777216");
    c.bpf_lb_map_max = static_cast<uint32_t>(n);
  }
  if (auto v = get("service-no-backend-response")) c.service_no_backend_reject = *v != "drop";
  flag("enable-external-ips", c.enable_external_ips);
  flag("bpf-lb-external-clusterip", c.bpf_lb_external_clusterip);
  flag("trace-sock", c.trace_sock);
  if (auto v = get("node-port-range")) parse_node_port_range(*v, c);
  lb_mode_and_loopback(c, get);
}

}  // namespace

AgentConfig make_agent_config(const ConfigDir& dir, const std::string& node_name) {
  AgentConfig c;
  c.raw = dir;
  c.node_name = node_name;
  auto get = [&](const char* key) -> std::optional<std::string> {
    auto it = dir.values.find(key);
    if (it == dir.values.end()) return std::nullopt;
    return it->second;
  };
  auto flag = [&](const char* key, bool& out) {
    if (auto v = get(key)) out = (*v == "true");
  };
  auto str = [&](const char* key, std::string& out) {
    if (auto v = get(key); v && !v->empty()) out = *v;
  };
  flag("enable-ipv4", c.enable_ipv4);
  flag("enable-ipv6", c.enable_ipv6);
  flag("debug", c.debug);
  str("cluster-name", c.cluster_name);
  str("routing-mode", c.routing_mode);
  str("bpf-root", c.bpf_root);
  str("state-dir", c.state_dir);
  str("socket-path", c.socket_path);
  str("local-store-dir", c.local_store_dir);
  str("write-cni-conf-when-ready", c.cni_conf_path);
  str("cni-log-file", c.cni_log_file);
  flag("enable-health-checking", c.enable_health_checking);
  flag("enable-endpoint-health-checking", c.enable_endpoint_health_checking);
  str("health-netns", c.health_netns);
  if (auto v = get("health-probe-interval"))
    c.health_probe_interval = std::chrono::duration_cast<std::chrono::milliseconds>(parse_go_duration(*v));
  flag("enable-ipv4-masquerade", c.enable_ipv4_masquerade);
  flag("enable-ipv6-masquerade", c.enable_ipv6_masquerade);
  flag("enable-bpf-masquerade", c.enable_bpf_masquerade);
  if (auto v = get("ipv4-native-routing-cidr")) c.ipv4_native_routing_cidr = IpPrefix::parse(*v);
  if (auto v = get("ipv6-native-routing-cidr")) c.ipv6_native_routing_cidr = IpPrefix::parse(*v);
  if (auto v = get("devices")) c.devices = split_devices(*v);
  if (auto v = get("mtu")) c.mtu = std::stoi(*v);
  if (auto v = get("ipv4-range")) c.ipv4_range = IpPrefix::parse(*v);
  if (auto v = get("ipv6-range")) c.ipv6_range = IpPrefix::parse(*v);
  str("ipam", c.ipam_mode);
  str("identity-allocation-mode", c.identity_allocation_mode);
  str("kvstore", c.kvstore);
  if (auto v = get("kvstore-opt"); v && !v->empty()) c.kvstore_etcd_config = etcd_config_of(*v);
  str("k8s-kubeconfig-path", c.k8s_kubeconfig_path);
  str("k8s-api-server", c.k8s_api_server);
  if (auto v = get("k8s-client-qps")) c.k8s_client_qps = std::stod(*v);
  if (auto v = get("k8s-client-burst")) c.k8s_client_burst = std::stoi(*v);
  if (auto v = get("k8s-heartbeat-timeout"))
    c.k8s_heartbeat_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(parse_go_duration(*v));
  flag("remove-cilium-node-taints", c.remove_cilium_node_taints);
  lb_config(c, get);
  flag("enable-hubble", c.enable_hubble);
  if (auto v = get("hubble-listen-address")) c.hubble_listen_address = *v;
  if (auto v = get("hubble-socket-path")) c.hubble_socket_path = *v;
  if (auto v = get("hubble-event-buffer-capacity")) {
    unsigned long n = std::stoul(*v);
    // Upstream's rule: one less than a power of two, so the ring can mask.
    if (n == 0 || n > 65535 || ((n + 1) & n) != 0)
      throw std::invalid_argument("config key 'hubble-event-buffer-capacity': " + *v +
                                  " must be one less than a power of two, at most 65535 (e.g. 4095)");
    c.hubble_event_buffer_capacity = static_cast<uint32_t>(n);
  }
  str("monitor-aggregation", c.monitor_aggregation);
  flag("hubble-disable-tls", c.hubble_disable_tls);
  str("hubble-tls-cert-file", c.hubble_tls_cert_file);
  str("hubble-tls-key-file", c.hubble_tls_key_file);
  str("hubble-tls-client-ca-files", c.hubble_tls_client_ca_file);
  if (auto v = get("prometheus-serve-addr")) c.prometheus_serve_addr = *v;
  flag("enable-bgp-control-plane", c.enable_bgp_control_plane);
  str("bgp-secrets-namespace", c.bgp_secrets_namespace);

  if (c.node_name.empty()) throw std::invalid_argument("node name is empty: pass --node-name or set K8S_NODE_NAME");
  if (c.node_name.find('/') != std::string::npos || c.cluster_name.find('/') != std::string::npos)
    throw std::invalid_argument("node and cluster names must not contain '/'");
  if (!c.enable_ipv4 && !c.enable_ipv6)
    throw std::invalid_argument("config keys 'enable-ipv4' and 'enable-ipv6' are both false: nothing to route");
  if (c.enable_ipv4 && !c.ipv4_range && !c.pod_cidrs_from_operator())
    throw std::invalid_argument("config key 'ipv4-range' is required when enable-ipv4 is true "
                                "(the node's IPv4 PodCIDR, e.g. 10.233.64.0/24) unless ipam is cluster-pool");
  if (c.enable_ipv6 && !c.ipv6_range && !c.pod_cidrs_from_operator())
    throw std::invalid_argument("config key 'ipv6-range' is required when enable-ipv6 is true "
                                "(the node's IPv6 PodCIDR, e.g. fd00:10:233:1::/64) unless ipam is cluster-pool");
  if (c.ipv4_range && c.ipv4_range->len > 30)
    throw std::invalid_argument("config key 'ipv4-range': " + c.ipv4_range->str() + " is too small for pods");
  if (c.ipv6_range && c.ipv6_range->len > 126)
    throw std::invalid_argument("config key 'ipv6-range': " + c.ipv6_range->str() + " is too small for pods");
  if (c.mtu != 0 && (c.mtu < 1280 || c.mtu > 65535))
    throw std::invalid_argument("config key 'mtu': " + std::to_string(c.mtu) + " is outside 1280..65535");
  if (c.health_netns.find('/') != std::string::npos || c.health_netns == "." || c.health_netns == "..")
    throw std::invalid_argument("config key 'health-netns': \"" + c.health_netns +
                                "\" is not a namespace name (no '/')");
  if (!c.kvstore.empty() && c.kvstore != "etcd")
    throw std::invalid_argument("config key 'kvstore': \"" + c.kvstore + "\" is not supported (expected etcd or empty)");
  if (c.kvstore == "etcd" && c.kvstore_etcd_config.empty())
    throw std::invalid_argument("config key 'kvstore' is etcd but 'kvstore-opt' names no etcd.config "
                                "(expected {\"etcd.config\": \"/path/etcd.config\"})");
  if (c.kvstore == "etcd" && !c.k8s_kubeconfig_path.empty())
    throw std::invalid_argument("config keys 'kvstore' etcd and 'k8s-kubeconfig-path' are mutually exclusive "
                                "(upstream allows both; ciliumpp keeps its resources in one place for now)");
  if (c.k8s_heartbeat_timeout < std::chrono::milliseconds(100))
    throw std::invalid_argument("config key 'k8s-heartbeat-timeout': must be at least 100ms");
  if (c.health_probe_interval < std::chrono::milliseconds(100))
    throw std::invalid_argument("config key 'health-probe-interval': must be at least 100ms");
  return c;
}

}  // namespace cpp::config
