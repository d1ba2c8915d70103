#include "config/key_rules.h"

#include <array>
#include <cstring>
#include <regex>

#include "common/ip.h"

namespace cpp::config {
namespace {

using K = ValueKind;

// Keys of the seed's cilium-config ConfigMap, plus the agent flags ciliumpp
// reads from the same directory. Keys whose value ciliumpp does not act on
// yet are still known, so they are validated and never reported as unknown.
constexpr std::array kRules = {
    KeyRule{"agent-not-ready-taint-key", K::String, nullptr},
    KeyRule{"arping-refresh-period", K::Duration, nullptr},
    KeyRule{"auto-direct-node-routes", K::Bool, nullptr},
    KeyRule{"bgp-secrets-namespace", K::String, nullptr},
    KeyRule{"bpf-lb-acceleration", K::Enum, "disabled|native|best-effort"},
    KeyRule{"bpf-lb-algorithm", K::Enum, "random|maglev"},
    KeyRule{"bpf-lb-external-clusterip", K::Bool, nullptr},
    KeyRule{"bpf-lb-map-max", K::Uint, nullptr},
    KeyRule{"bpf-lb-mode", K::Enum, "snat|dsr|hybrid"},
    KeyRule{"bpf-lb-sock", K::Bool, nullptr},
    KeyRule{"bpf-map-dynamic-size-ratio", K::Float, nullptr},
    KeyRule{"bpf-policy-map-max", K::Uint, nullptr},
    KeyRule{"bpf-root", K::String, nullptr},
    KeyRule{"cgroup-root", K::String, nullptr},
    KeyRule{"cilium-endpoint-gc-interval", K::Duration, nullptr},
    KeyRule{"cluster-id", K::Uint, nullptr},
    KeyRule{"cluster-name", K::String, nullptr},
    KeyRule{"cluster-pool-ipv4-cidr", K::Cidr4, nullptr},
    KeyRule{"cluster-pool-ipv4-mask-size", K::Uint, nullptr},
    KeyRule{"cluster-pool-ipv6-cidr", K::Cidr6, nullptr},
    KeyRule{"cluster-pool-ipv6-mask-size", K::Uint, nullptr},
    KeyRule{"cni-chaining-mode", K::String, nullptr},
    KeyRule{"cni-exclusive", K::Bool, nullptr},
    KeyRule{"cni-log-file", K::String, nullptr},
    KeyRule{"custom-cni-conf", K::Bool, nullptr},
    KeyRule{"debug", K::Bool, nullptr},
    KeyRule{"debug-verbose", K::String, nullptr},
    KeyRule{"devices", K::String, nullptr},
    KeyRule{"dnsproxy-enable-transparent-mode", K::Bool, nullptr},
    KeyRule{"egress-gateway-reconciliation-trigger-interval", K::Duration, nullptr},
    KeyRule{"enable-auto-protect-node-port-range", K::Bool, nullptr},
    KeyRule{"enable-bgp-control-plane", K::Bool, nullptr},
    KeyRule{"enable-bpf-clock-probe", K::Bool, nullptr},
    KeyRule{"enable-bpf-masquerade", K::Bool, nullptr},
    KeyRule{"enable-endpoint-health-checking", K::Bool, nullptr},
    KeyRule{"enable-external-ips", K::Bool, nullptr},
    KeyRule{"enable-health-check-loadbalancer-ip", K::Bool, nullptr},
    KeyRule{"enable-health-check-nodeport", K::Bool, nullptr},
    KeyRule{"enable-health-checking", K::Bool, nullptr},
    KeyRule{"enable-host-port", K::Bool, nullptr},
    KeyRule{"enable-hubble", K::Bool, nullptr},
    KeyRule{"enable-ipv4", K::Bool, nullptr},
    KeyRule{"enable-ipv4-big-tcp", K::Bool, nullptr},
    KeyRule{"enable-ipv4-masquerade", K::Bool, nullptr},
    KeyRule{"enable-ipv6", K::Bool, nullptr},
    KeyRule{"enable-ipv6-big-tcp", K::Bool, nullptr},
    KeyRule{"enable-ipv6-masquerade", K::Bool, nullptr},
    KeyRule{"enable-k8s-networkpolicy", K::Bool, nullptr},
    KeyRule{"enable-k8s-terminating-endpoint", K::Bool, nullptr},
    KeyRule{"enable-l2-neigh-discovery", K::Bool, nullptr},
    KeyRule{"enable-l7-proxy", K::Bool, nullptr},
    KeyRule{"enable-lb-ipam", K::Bool, nullptr},
    KeyRule{"enable-local-redirect-policy", K::Bool, nullptr},
    KeyRule{"enable-masquerade-to-route-source", K::Bool, nullptr},
    KeyRule{"enable-metrics", K::Bool, nullptr},
    KeyRule{"enable-node-port", K::Bool, nullptr},
    KeyRule{"enable-policy", K::Enum, "default|always|never"},
    KeyRule{"enable-remote-node-identity", K::Bool, nullptr},
    KeyRule{"enable-sctp", K::Bool, nullptr},
    KeyRule{"enable-svc-source-range-check", K::Bool, nullptr},
    KeyRule{"enable-vtep", K::Bool, nullptr},
    KeyRule{"enable-well-known-identities", K::Bool, nullptr},
    KeyRule{"enable-xt-socket-fallback", K::Bool, nullptr},
    KeyRule{"external-envoy-proxy", K::Bool, nullptr},
    KeyRule{"health-netns", K::String, nullptr},
    KeyRule{"health-probe-interval", K::Duration, nullptr},
    KeyRule{"hubble-disable-tls", K::Bool, nullptr},
    KeyRule{"hubble-event-buffer-capacity", K::Uint, nullptr},
    KeyRule{"hubble-export-file-max-backups", K::Uint, nullptr},
    KeyRule{"hubble-export-file-max-size-mb", K::Uint, nullptr},
    KeyRule{"hubble-listen-address", K::ListenAddr, nullptr},
    KeyRule{"hubble-socket-path", K::String, nullptr},
    KeyRule{"hubble-tls-cert-file", K::String, nullptr},
    KeyRule{"hubble-tls-client-ca-files", K::String, nullptr},
    KeyRule{"hubble-tls-key-file", K::String, nullptr},
    KeyRule{"identity-allocation-mode", K::Enum, "crd|kvstore"},
    KeyRule{"identity-gc-interval", K::Duration, nullptr},
    KeyRule{"identity-heartbeat-timeout", K::Duration, nullptr},
    KeyRule{"install-no-conntrack-iptables-rules", K::Bool, nullptr},
    KeyRule{"ipam", K::Enum, "cluster-pool|kubernetes|multi-pool"},
    KeyRule{"ipam-cilium-node-update-rate", K::Duration, nullptr},
    KeyRule{"ipv4-native-routing-cidr", K::Cidr4, nullptr},
    KeyRule{"ipv4-range", K::Cidr4, nullptr},
    KeyRule{"ipv4-service-loopback-address", K::String, nullptr},
    KeyRule{"ipv6-native-routing-cidr", K::Cidr6, nullptr},
    KeyRule{"ipv6-range", K::Cidr6, nullptr},
    KeyRule{"ipv6-service-loopback-address", K::String, nullptr},
    KeyRule{"k8s-api-server", K::String, nullptr},
    KeyRule{"k8s-client-burst", K::Uint, nullptr},
    KeyRule{"k8s-client-qps", K::Uint, nullptr},
    KeyRule{"k8s-heartbeat-timeout", K::Duration, nullptr},
    KeyRule{"k8s-kubeconfig-path", K::String, nullptr},
    KeyRule{"kube-proxy-replacement", K::Enum, "true|false|strict|partial|disabled"},
    KeyRule{"kube-proxy-replacement-healthz-bind-address", K::String, nullptr},
    KeyRule{"kvstore", K::String, nullptr},  // "" or "etcd"; checked where it is used
    KeyRule{"kvstore-opt", K::String, nullptr},
    KeyRule{"local-store-dir", K::String, nullptr},
    KeyRule{"max-connected-clusters", K::Uint, nullptr},
    KeyRule{"mesh-auth-enabled", K::Bool, nullptr},
    KeyRule{"mesh-auth-gc-interval", K::Duration, nullptr},
    KeyRule{"mesh-auth-queue-size", K::Uint, nullptr},
    KeyRule{"mesh-auth-rotated-identities-queue-size", K::Uint, nullptr},
    KeyRule{"monitor-aggregation", K::Enum, "none|low|medium|maximum"},
    KeyRule{"monitor-aggregation-flags", K::String, nullptr},
    KeyRule{"monitor-aggregation-interval", K::Duration, nullptr},
    KeyRule{"mtu", K::Uint, nullptr},
    KeyRule{"node-port-bind-protection", K::Bool, nullptr},
    KeyRule{"node-port-range", K::String, nullptr},  // "30000,32767"; checked in agent_config
    KeyRule{"nodes-gc-interval", K::Duration, nullptr},
    KeyRule{"operator-api-serve-addr", K::ListenAddr, nullptr},
    KeyRule{"operator-prometheus-serve-addr", K::ListenAddr, nullptr},
    KeyRule{"policy-audit-mode", K::Bool, nullptr},
    KeyRule{"policy-cidr-match-mode", K::String, nullptr},
    KeyRule{"preallocate-bpf-maps", K::Bool, nullptr},
    KeyRule{"procfs", K::String, nullptr},
    KeyRule{"prometheus-serve-addr", K::ListenAddr, nullptr},
    KeyRule{"proxy-connect-timeout", K::Uint, nullptr},
    KeyRule{"proxy-max-connection-duration-seconds", K::Uint, nullptr},
    KeyRule{"proxy-max-requests-per-connection", K::Uint, nullptr},
    KeyRule{"proxy-prometheus-port", K::Uint, nullptr},
    KeyRule{"remove-cilium-node-taints", K::Bool, nullptr},
    KeyRule{"routing-mode", K::Enum, "tunnel|native"},
    KeyRule{"service-no-backend-response", K::Enum, "reject|drop"},
    KeyRule{"set-cilium-is-up-condition", K::Bool, nullptr},
    KeyRule{"set-cilium-node-taints", K::Bool, nullptr},
    KeyRule{"sidecar-istio-proxy-image", K::String, nullptr},
    KeyRule{"skip-cnp-status-startup-clean", K::Bool, nullptr},
    KeyRule{"socket-path", K::String, nullptr},
    KeyRule{"state-dir", K::String, nullptr},
    KeyRule{"synchronize-k8s-nodes", K::Bool, nullptr},
    KeyRule{"tofqdns-dns-reject-response-code", K::Enum, "refused|nameError"},
    KeyRule{"tofqdns-enable-dns-compression", K::Bool, nullptr},
    KeyRule{"tofqdns-endpoint-max-ip-per-hostname", K::Uint, nullptr},
    KeyRule{"tofqdns-idle-connection-grace-period", K::Duration, nullptr},
    KeyRule{"tofqdns-max-deferred-connection-deletes", K::Uint, nullptr},
    KeyRule{"tofqdns-proxy-response-max-delay", K::Duration, nullptr},
    KeyRule{"trace-sock", K::Bool, nullptr},
    KeyRule{"tunnel-protocol", K::Enum, "vxlan|geneve"},
    KeyRule{"unmanaged-pod-watcher-interval", K::Uint, nullptr},
    KeyRule{"vtep-cidr", K::String, nullptr},
    KeyRule{"vtep-endpoint", K::String, nullptr},
    KeyRule{"vtep-mac", K::String, nullptr},
    KeyRule{"vtep-mask", K::String, nullptr},
    KeyRule{"write-cni-conf-when-ready", K::String, nullptr},
};

bool is_uint(const std::string& v) {
  return !v.empty() && v.size() <= 19 && v.find_first_not_of("0123456789") == std::string::npos;
}

}  // namespace

std::optional<KeyRule> find_rule(const std::string& key) {
  for (const auto& r : kRules)
    if (key == r.key) return r;
  return std::nullopt;
}

std::optional<std::string> check_value(const KeyRule& rule, const std::string& v) {
  switch (rule.kind) {
    case K::String:
      return std::nullopt;
    case K::Bool:
      if (v == "true" || v == "false") return std::nullopt;
      return "expected true or false";
    case K::Uint:
      if (is_uint(v)) return std::nullopt;
      return "expected a non-negative integer";
    case K::Float: {
      static const std::regex re(R"(^[0-9]+(\.[0-9]+)?$)");
      if (std::regex_match(v, re)) return std::nullopt;
      return "expected a non-negative decimal number";
    }
    case K::Duration: {
      // Go time.Duration syntax, as upstream parses it: "0", "15m0s", "100ms", "1h30m".
      static const std::regex re(R"(^(0|([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$)");
      if (std::regex_match(v, re)) return std::nullopt;
      return "expected a duration such as 30s, 5m0s or 100ms";
    }
    case K::Cidr4:
    case K::Cidr6:
    case K::CidrAny: {
      auto p = IpPrefix::parse(v);
      if (!p) return "expected a CIDR such as 10.0.0.0/16 with no host bits set";
      if (rule.kind == K::Cidr4 && p->addr.v6) return "expected an IPv4 CIDR";
      if (rule.kind == K::Cidr6 && !p->addr.v6) return "expected an IPv6 CIDR";
      return std::nullopt;
    }
    case K::ListenAddr: {
      auto colon = v.rfind(':');
      if (colon != std::string::npos && is_uint(v.substr(colon + 1)) && std::stoul(v.substr(colon + 1)) <= 65535)
        return std::nullopt;
      return "expected [host]:port";
    }
    case K::Enum: {
      std::string choices = rule.choices;
      size_t start = 0;
      while (start <= choices.size()) {
        size_t end = choices.find('|', start);
        if (end == std::string::npos) end = choices.size();
        if (choices.compare(start, end - start, v) == 0) return std::nullopt;
        start = end + 1;
      }
      std::string shown = choices;
      for (auto& c : shown)
        if (c == '|') c = ',';
      return "expected one of " + shown;
    }
  }
  return std::nullopt;
}

}  // namespace cpp::config
