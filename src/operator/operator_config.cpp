#include "operator/operator_config.h"

#include <nlohmann/json.hpp>

#include <stdexcept>

#include "config/duration.h"

namespace cpp::op {

namespace {
std::chrono::milliseconds ms(const std::string& v) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(config::parse_go_duration(v));
}
}  // namespace

std::string etcd_config_from_kvstore_opt(const std::string& value) {
  auto j = nlohmann::json::parse(value, nullptr, false);
  if (!j.is_discarded()) {
    if (!j.is_object()) throw std::invalid_argument("config key 'kvstore-opt': expected a JSON map");
    auto it = j.find("etcd.config");
    if (it == j.end()) return "";
    if (!it->is_string()) throw std::invalid_argument("config key 'kvstore-opt': etcd.config must be a string");
    return it->get<std::string>();
  }
  size_t pos = 0;
  while (pos <= value.size()) {
    size_t end = value.find(',', pos);
    if (end == std::string::npos) end = value.size();
    std::string item = value.substr(pos, end - pos);
    auto eq = item.find('=');
    if (eq != std::string::npos && item.substr(0, eq) == "etcd.config") return item.substr(eq + 1);
    pos = end + 1;
  }
  return "";
}

OperatorConfig make_operator_config(const config::ConfigDir& dir, bool in_pod) {
  OperatorConfig c;
  auto get = [&](const char* key) -> std::optional<std::string> {
    auto it = dir.values.find(key);
    if (it == dir.values.end() || it->second.empty()) return std::nullopt;
    return it->second;
  };
  bool v4 = get("enable-ipv4").value_or("true") == "true";
  bool v6 = get("enable-ipv6").value_or("false") == "true";
  c.debug = get("debug").value_or("false") == "true";
  c.enable_ipv4 = v4;
  c.enable_ipv6 = v6;
  c.enable_lb_ipam = get("enable-lb-ipam").value_or("true") == "true";
  if (auto v = get("ipam")) c.ipam_mode = *v;
  if (v4) {
    c.pool.ipv4 = IpPrefix::parse(get("cluster-pool-ipv4-cidr").value_or("10.0.0.0/8"));
    c.pool.ipv4_mask = std::stoi(get("cluster-pool-ipv4-mask-size").value_or("24"));
  }
  if (v6) {
    c.pool.ipv6 = IpPrefix::parse(get("cluster-pool-ipv6-cidr").value_or("fd00::/104"));
    c.pool.ipv6_mask = std::stoi(get("cluster-pool-ipv6-mask-size").value_or("120"));
  }
  auto kvstore = get("kvstore");
  if (auto v = get("k8s-kubeconfig-path")) {
    if (kvstore)
      throw std::invalid_argument("config keys 'kvstore' and 'k8s-kubeconfig-path': kvstore etcd and "
                                  "k8s-kubeconfig-path are mutually exclusive (upstream allows both; ciliumpp "
                                  "does not yet)");
    c.k8s = true;
    c.kubeconfig_path = *v;
  } else if (in_pod && !kvstore) {
    c.k8s = true;
  }
  if (c.k8s) {
    c.lease_ttl_seconds = 15;
    if (auto v = get("k8s-client-qps")) c.k8s_qps = std::stod(*v);
    if (auto v = get("k8s-client-burst")) c.k8s_burst = std::stoi(*v);
    if (c.k8s_qps <= 0 || c.k8s_burst <= 0)
      throw std::invalid_argument("config keys 'k8s-client-qps' and 'k8s-client-burst' must be positive");
  } else {
    if (!kvstore || *kvstore != "etcd")
      throw std::invalid_argument("config key 'kvstore' must be \"etcd\" (or set 'k8s-kubeconfig-path'): the "
                                  "operator keeps its state and leader election in etcd or the Kubernetes API");
    if (auto v = get("kvstore-opt")) c.etcd_config = etcd_config_from_kvstore_opt(*v);
    if (c.etcd_config.empty())
      throw std::invalid_argument("config key 'kvstore-opt' must name the etcd client config, e.g. "
                                  "{\"etcd.config\": \"/var/lib/etcd-config/etcd.config\"}");
  }
  if (auto v = get("operator-api-serve-addr")) c.healthz_addr = *v;
  c.enable_metrics = get("enable-metrics").value_or("false") == "true";
  if (auto v = get("operator-prometheus-serve-addr")) c.prometheus_addr = *v;
  if (auto v = get("identity-gc-interval")) c.identity_gc_interval = ms(*v);
  if (auto v = get("identity-heartbeat-timeout")) c.identity_gc_grace = ms(*v);
  if (auto v = get("cilium-endpoint-gc-interval")) c.endpoint_gc_interval = ms(*v);
  // Throws naming cluster-pool-ipv{4,6}-mask-size when a mask does not fit.
  if (c.ipam_mode == "cluster-pool") ipam::ClusterPool check(c.pool);
  return c;
}

}  // namespace cpp::op
