// cilium-lab connectivity test: the subset of upstream `cilium connectivity
// test` (cilium-cli v0.15.22, see docs/../upstream-connectivity-suite.md)
// whose features ciliumpp has, under the upstream names, plus the list of
// what was skipped and why.
#include <atomic>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <regex>
#include <thread>

#include "lab/lab.h"
#include "lab/netns.h"
#include "lab/probe.h"

namespace cpp::lab {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kTestNamespace = "cilium-test";
constexpr uint16_t kEchoPort = 8080;  // json-mock's port in upstream's echo pods

struct ProbePodSpec {
  std::string name;
  int node_index;  // 1 = client's node, 2 = another node
  std::map<std::string, std::string> labels;
};

// Upstream's deployment (check/deployment.go): client, client2 and
// echo-same-node share a node; client3 and echo-other-node go to another one.
const std::vector<ProbePodSpec>& probe_pods() {
  static const std::vector<ProbePodSpec> pods = {
      {"client", 1, {{"kind", "client"}, {"name", "client"}}},
      {"client2", 1, {{"other", "client"}, {"name", "client2"}}},
      {"echo-same-node", 1, {{"kind", "echo"}, {"other", "echo"}, {"name", "echo-same-node"}}},
      {"client3", 2, {{"other", "client-other-node"}, {"name", "client3"}}},
      {"echo-other-node", 2, {{"kind", "echo"}, {"first", "echo"}, {"name", "echo-other-node"}}},
  };
  return pods;
}

// A traffic endpoint: a pod, or a node's own namespace (upstream's host-netns pod).
struct Peer {
  std::string label;  // "cilium-test/client", "node1 (host)"
  std::string netns_path;
  std::string ipv4, ipv6;
  std::string addr(bool v6) const { return v6 ? ipv6 : ipv4; }
};

enum class Proto { Tcp, Udp, Icmp };
const char* proto_name(Proto p) { return p == Proto::Tcp ? "tcp" : p == Proto::Udp ? "udp" : "icmp"; }

struct Action {
  std::string test, scenario, variant;
  Proto proto;
  bool v6;
  Peer src, dst;
  std::string dst_addr;
  uint16_t port = 0;
  std::string name() const {
    return test + "/" + scenario + "/" + variant + "/" + proto_name(proto) + "/" + (v6 ? "ipv6" : "ipv4");
  }
};

struct Result {
  Action action;
  bool ok = false;
  std::string detail;
  double ms = 0;
};

struct Skip {
  std::string name, reason;
};

// Every upstream test of cilium-cli v0.15.22 that does not run here, with the reason.
std::vector<Skip> upstream_skips(bool ran_no_policies) {
  const std::string policy = "policy scenario not yet ported to the connectivity test (enforcement is covered by tests/e2e/policy_e2e.sh)";
  const std::string l7 = "L7 proxy (HTTP/DNS/TLS) not yet in ciliumpp";
  const std::string outside = "needs a node without Cilium; the lab has none yet";
  const std::string encryption = "transparent encryption needs WireGuard or IPsec, which this kernel lacks";
  const std::string ingress = "Ingress controller not yet in ciliumpp";
  std::vector<Skip> s = {
      {"no-unexpected-packet-drops", "drop-reason metrics (cilium_drop_count_total) not yet in ciliumpp"},
      {"no-policies-from-outside", outside},
      {"no-policies-extra", "NodePort services not yet in ciliumpp"},
      {"allow-all-except-world", policy},
      {"client-ingress", policy},
      {"client-ingress-knp", policy},
      {"allow-all-with-metrics-check", "Prometheus metrics not yet in ciliumpp"},
      {"all-ingress-deny", policy},
      {"all-ingress-deny-knp", policy},
      {"all-ingress-deny-from-outside", outside},
      {"all-egress-deny", policy},
      {"all-egress-deny-knp", policy},
      {"all-entities-deny", policy},
      {"cluster-entity", policy},
      {"cluster-entity-multi-cluster", "cluster mesh not yet in ciliumpp"},
      {"host-entity-egress", policy},
      {"host-entity-ingress", policy},
      {"echo-ingress", policy},
      {"echo-ingress-knp", policy},
      {"echo-ingress-from-outside", outside},
      {"client-ingress-icmp", policy},
      {"client-egress", policy},
      {"client-egress-knp", policy},
      {"client-egress-expression", policy},
      {"client-egress-expression-knp", policy},
      {"client-with-service-account-egress-to-echo", policy},
      {"client-egress-to-echo-service-account", policy},
      {"to-entities-world", policy},
      {"to-cidr-external", policy},
      {"to-cidr-external-knp", policy},
      {"from-cidr-host-netns", outside},
      {"echo-ingress-from-other-client-deny", policy},
      {"client-ingress-from-other-client-icmp-deny", policy},
      {"client-egress-to-echo-deny", policy},
      {"client-ingress-to-echo-named-port-deny", policy},
      {"client-egress-to-echo-expression-deny", policy},
      {"client-with-service-account-egress-to-echo-deny", policy},
      {"client-egress-to-echo-service-account-deny", policy},
      {"client-egress-to-cidr-deny", policy},
      {"client-egress-to-cidr-deny-default", policy},
      {"health", "cilium-health not yet in ciliumpp"},
      {"north-south-loadbalancing", outside},
      {"pod-to-pod-encryption", encryption},
      {"node-to-node-encryption", encryption},
      {"egress-gateway", "egress gateway not yet in ciliumpp"},
      {"egress-gateway-excluded-cidrs", "egress gateway not yet in ciliumpp"},
      {"pod-to-node-cidrpolicy", policy},
      {"north-south-loadbalancing-with-l7-policy", l7},
      {"echo-ingress-l7", l7},
      {"echo-ingress-l7-named-port", l7},
      {"client-egress-l7-method", l7},
      {"client-egress-l7", l7},
      {"client-egress-l7-named-port", l7},
      {"client-egress-l7-tls-deny-without-headers", l7},
      {"client-egress-l7-tls-headers", l7},
      {"client-egress-l7-set-header", l7},
      {"echo-ingress-auth-always-fail", "mutual authentication (SPIFFE) not yet in ciliumpp"},
      {"echo-ingress-mutual-auth-spiffe", "mutual authentication (SPIFFE) not yet in ciliumpp"},
      {"pod-to-ingress-service", ingress},
      {"pod-to-ingress-service-deny-all", ingress},
      {"pod-to-ingress-service-deny-ingress-identity", ingress},
      {"pod-to-ingress-service-deny-backend-service", ingress},
      {"pod-to-ingress-service-allow-ingress-identity", ingress},
      {"outside-to-ingress-service", ingress},
      {"outside-to-ingress-service-deny-world-identity", ingress},
      {"outside-to-ingress-service-deny-cidr", ingress},
      {"outside-to-ingress-service-deny-all-ingress", ingress},
      {"dns-only", l7},
      {"to-fqdns", l7},
      {"pod-to-controlplane-host", "no control-plane node in the lab (--k8s-localhost-test)"},
      {"pod-to-k8s-on-controlplane", "no kube-apiserver in the lab (--k8s-localhost-test)"},
      {"pod-to-controlplane-host-cidr", "no control-plane node in the lab (--k8s-localhost-test)"},
      {"pod-to-k8s-on-controlplane-cidr", "no kube-apiserver in the lab (--k8s-localhost-test)"},
      {"check-log-errors", "unsafe test (upstream: --include-unsafe-tests); not ported yet"},
      {"network-perf", "performance mode (upstream: --perf); not ported"},
      {"no-interrupted-connections", "conn-disrupt mode (upstream: --include-conn-disrupt-test); not ported"},
      {"no-ipsec-xfrm-errors", "IPsec is missing from this kernel"},
  };
  if (ran_no_policies) {
    // Scenarios of no-policies that need features ciliumpp does not have yet.
    std::vector<Skip> partial = {
        {"no-policies/pod-to-service", "ClusterIP services not yet in ciliumpp"},
        {"no-policies/pod-to-remote-nodeport", "NodePort services not yet in ciliumpp"},
        {"no-policies/pod-to-local-nodeport", "NodePort services not yet in ciliumpp"},
        {"no-policies/pod-to-hostport", "HostPort not yet in ciliumpp"},
        {"no-policies/pod-to-world", "no 'world' namespace with external targets in the lab yet"},
        {"no-policies/pod-to-external-workload", "CiliumExternalWorkload not yet in ciliumpp"},
        {"no-policies/pod-to-cidr", "no 'world' namespace with external targets in the lab yet"},
    };
    s.insert(s.begin(), partial.begin(), partial.end());
  }
  return s;
}

Peer pod_peer(const PodState& p) { return {p.ns + "/" + p.name, p.netns_path(), p.ipv4, p.ipv6}; }
Peer host_peer(const NodeState& n) { return {n.name + " (host)", n.netns_path(), n.ipv4, n.ipv6}; }

Result run_action(const Action& a) {
  Result r;
  r.action = a;
  auto start = Clock::now();
  ProbeOutcome o;
  if (a.dst_addr.empty()) {
    o = {false, std::string("destination has no ") + (a.v6 ? "IPv6" : "IPv4") + " address"};
  } else {
    switch (a.proto) {
      case Proto::Tcp: o = probe_tcp(a.src.netns_path, a.dst_addr, a.port, std::chrono::milliseconds(3000), 2); break;
      case Proto::Udp: o = probe_udp(a.src.netns_path, a.dst_addr, a.port, std::chrono::milliseconds(1500), 3); break;
      case Proto::Icmp: o = probe_icmp(a.src.netns_path, a.dst_addr, 2, 2); break;
    }
  }
  r.ok = o.ok;
  r.detail = o.detail;
  r.ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  return r;
}

std::string endpoint_text(const Peer& p, const std::string& addr, uint16_t port, bool v6) {
  std::string a = addr.empty() ? "-" : addr;
  if (port) a = v6 ? "[" + a + "]:" + std::to_string(port) : a + ":" + std::to_string(port);
  return p.label + " (" + a + ")";
}

}  // namespace

int cmd_connectivity_test(const std::string& name, const ConnectivityOptions& o) {
  std::optional<std::regex> filter;
  if (!o.test_filter.empty()) {
    try {
      filter.emplace(o.test_filter);
    } catch (const std::regex_error& e) {
      std::cerr << "cilium-lab connectivity test: bad --test regex: " << e.what() << "\n";
      return 1;
    }
  }

  // 1. Deploy the probe pods that are missing (under the lab lock).
  LabState lab;
  {
    LabLock lock(name);
    lab = load_lab(name);
    if (lab.nodes.empty()) {
      std::cerr << "cilium-lab connectivity test: lab " << name << " has no nodes\n";
      return 1;
    }
    for (const auto& spec : probe_pods()) {
      if (spec.node_index > static_cast<int>(lab.nodes.size())) continue;
      if (spec.node_index == 2 && !o.cross_node) continue;
      if (lab.find_pod(spec.name)) continue;
      PodAddOptions add;
      add.node = lab.nodes[spec.node_index - 1].name;
      add.pod = spec.name;
      add.ns = kTestNamespace;
      add.labels = spec.labels;
      if (!o.as_json) std::cout << "deploying " << kTestNamespace << "/" << spec.name << " on " << add.node << "\n";
      try {
        add_pod(lab, add);
      } catch (const std::exception& e) {
        save_lab(lab);
        std::cerr << "cilium-lab connectivity test: cannot deploy " << spec.name << ": " << e.what() << "\n";
        return 1;
      }
      save_lab(lab);
    }
  }

  const PodState* client = lab.find_pod("client");
  const PodState* client2 = lab.find_pod("client2");
  const PodState* echo = lab.find_pod("echo-same-node");
  const PodState* client3 = lab.find_pod("client3");
  const PodState* echo_other = lab.find_pod("echo-other-node");
  if (!client || !client2 || !echo) {
    std::cerr << "cilium-lab connectivity test: probe pods client, client2 and echo-same-node are required\n";
    return 1;
  }
  if (client->node != echo->node || client2->node != client->node) {
    std::cerr << "cilium-lab connectivity test: client, client2 and echo-same-node must share a node; delete the "
                 "existing ones (cilium-lab pod del) and rerun\n";
    return 1;
  }
  NodeState* node1 = lab.find_node(client->node);
  NodeState* node2 = nullptr;
  bool cross = o.cross_node && client3 && echo_other && client3->node != client->node &&
               echo_other->node != client->node;
  if (cross) node2 = lab.find_node(echo_other->node);

  // 2. Servers, before any thread exists (they are forked).
  struct ServerSlot {
    std::string netns_path;
    EchoServer server;
  };
  std::vector<std::unique_ptr<ServerSlot>> servers;
  std::map<std::string, std::string> server_errors;  // netns path → error
  auto ensure_server = [&](const std::string& path) {
    for (const auto& s : servers)
      if (s->netns_path == path) return;
    auto slot = std::make_unique<ServerSlot>();
    slot->netns_path = path;
    if (!slot->server.start(path, kEchoPort)) server_errors[path] = slot->server.error();
    servers.push_back(std::move(slot));
  };
  ensure_server(echo->netns_path());
  ensure_server(node1->netns_path());
  if (cross) {
    ensure_server(echo_other->netns_path());
    ensure_server(node2->netns_path());
  }

  // 3. The matrix.
  std::vector<Action> actions;
  auto add = [&](const std::string& scenario, const std::string& variant, Proto proto, bool v6, const Peer& src,
                 const Peer& dst, const std::string& dst_addr) {
    Action a{"no-policies", scenario, variant, proto, v6, src, dst, dst_addr, 0};
    if (proto != Proto::Icmp) a.port = kEchoPort;
    if (filter && !std::regex_search(a.name(), *filter)) return;
    actions.push_back(std::move(a));
  };
  const Proto all[] = {Proto::Tcp, Proto::Udp, Proto::Icmp};
  Peer host1 = host_peer(*node1);
  std::vector<Skip> family_skips;
  for (bool v6 : {false, true}) {
    const char* fam = v6 ? "ipv6" : "ipv4";
    if ((v6 ? client->ipv6 : client->ipv4).empty() || (v6 ? echo->ipv6 : echo->ipv4).empty()) {
      // Upstream runs each scenario once per enabled family (ForEachIPFamily).
      family_skips.push_back({std::string("no-policies/*/") + fam,
                              std::string("the probe pods have no ") + (v6 ? "IPv6" : "IPv4") +
                                  " address (family disabled in the agents' config)"});
      continue;
    }
    // pod-to-pod: each client → each echo pod (upstream uses curl to :8080; TCP, UDP and ICMP here).
    for (const PodState* c : {client, client2})
      for (Proto p : all)
        add("pod-to-pod", "same-node", p, v6, pod_peer(*c), pod_peer(*echo), v6 ? echo->ipv6 : echo->ipv4);
    // client-to-client: ICMP between the client pods.
    add("client-to-client", "same-node", Proto::Icmp, v6, pod_peer(*client), pod_peer(*client2),
        v6 ? client2->ipv6 : client2->ipv4);
    add("client-to-client", "same-node", Proto::Icmp, v6, pod_peer(*client2), pod_peer(*client),
        v6 ? client->ipv6 : client->ipv4);
    // pod-to-host: the node's router address (cilium_host) and its InternalIP.
    Peer router{node1->name + " (cilium_host)", node1->netns_path(), router_ip(*node1, false), router_ip(*node1, true)};
    for (Proto p : all) add("pod-to-host", "router-ip", p, v6, pod_peer(*client), router, router.addr(v6));
    for (Proto p : all) add("pod-to-host", "node-ip", p, v6, pod_peer(*client), host1, host1.addr(v6));
    // host-to-pod: the node's own namespace (upstream's host-netns pod) → echo.
    for (Proto p : all) add("host-to-pod", "same-node", p, v6, host1, pod_peer(*echo), v6 ? echo->ipv6 : echo->ipv4);
    if (cross) {
      Peer host2 = host_peer(*node2);
      for (const PodState* c : {client, client2})
        for (Proto p : all)
          add("pod-to-pod", "cross-node", p, v6, pod_peer(*c), pod_peer(*echo_other),
              v6 ? echo_other->ipv6 : echo_other->ipv4);
      add("client-to-client", "cross-node", Proto::Icmp, v6, pod_peer(*client), pod_peer(*client3),
          v6 ? client3->ipv6 : client3->ipv4);
      for (Proto p : all) add("pod-to-host", "remote-node-ip", p, v6, pod_peer(*client), host2, host2.addr(v6));
      for (Proto p : all)
        add("host-to-pod", "cross-node", p, v6, host1, pod_peer(*echo_other), v6 ? echo_other->ipv6 : echo_other->ipv4);
    }
  }

  // 4. Run, a few at a time; results keep the matrix order.
  std::vector<Result> results(actions.size());
  std::vector<bool> done(actions.size(), false);
  for (size_t i = 0; i < actions.size(); ++i) {
    const Action& a = actions[i];
    auto it = server_errors.find(a.dst.netns_path);
    if (a.proto != Proto::Icmp && it != server_errors.end()) {
      results[i] = {a, false, "echo server not running: " + it->second, 0};
      done[i] = true;
    }
  }
  std::atomic<size_t> next{0};
  std::vector<std::thread> workers;
  size_t nworkers = std::min<size_t>(8, actions.size());
  for (size_t w = 0; w < nworkers; ++w)
    workers.emplace_back([&] {
      for (size_t i = next++; i < actions.size(); i = next++)
        if (!done[i]) results[i] = run_action(actions[i]);
    });
  for (auto& t : workers) t.join();
  servers.clear();

  size_t passed = 0, failed = 0;
  for (const auto& r : results) (r.ok ? passed : failed)++;
  std::vector<Skip> skipped = upstream_skips(true);
  skipped.insert(skipped.begin(), family_skips.begin(), family_skips.end());
  if (!cross) {
    std::string why = lab.nodes.size() < 2 ? "needs a second node (cilium-lab up --nodes 2)"
                                           : "cross-node pod traffic (VXLAN tunnel) not yet in ciliumpp; "
                                             "--cross-node runs it anyway";
    std::vector<Skip> cross_skips;
    for (const char* s : {"no-policies/pod-to-pod/cross-node", "no-policies/client-to-client/cross-node",
                          "no-policies/pod-to-host/remote-node-ip", "no-policies/host-to-pod/cross-node"})
      cross_skips.push_back({s, why});
    skipped.insert(skipped.begin(), cross_skips.begin(), cross_skips.end());
  }

  if (o.as_json) {
    json out{{"lab", lab.name}, {"nodes", lab.nodes.size()}, {"namespace", kTestNamespace}};
    out["results"] = json::array();
    for (const auto& r : results) {
      const Action& a = r.action;
      out["results"].push_back({{"name", a.name()},
                                {"test", a.test},
                                {"scenario", a.scenario},
                                {"variant", a.variant},
                                {"protocol", proto_name(a.proto)},
                                {"family", a.v6 ? "ipv6" : "ipv4"},
                                {"source", a.src.label},
                                {"destination", a.dst.label},
                                {"address", a.dst_addr},
                                {"port", a.port},
                                {"result", r.ok ? "pass" : "fail"},
                                {"detail", r.detail},
                                {"duration_ms", static_cast<int64_t>(r.ms)}});
    }
    out["skipped"] = json::array();
    for (const auto& s : skipped) out["skipped"].push_back({{"name", s.name}, {"reason", s.reason}});
    out["passed"] = passed;
    out["failed"] = failed;
    std::cout << out.dump(2) << "\n";
    return failed ? 1 : 0;
  }

  std::cout << "\nciliumpp connectivity test, lab " << lab.name << " (" << lab.nodes.size() << " node"
            << (lab.nodes.size() == 1 ? "" : "s") << "), probe pods in namespace " << kTestNamespace << "\n";
  for (const PodState* p : {client, client2, echo, client3, echo_other})
    if (p && (p == client || p == client2 || p == echo || cross))
      std::printf("  %-16s %-7s %-15s %s\n", p->name.c_str(), p->node.c_str(), p->ipv4.c_str(), p->ipv6.c_str());
  std::cout << "\n";
  size_t w = 4;
  for (const auto& r : results) w = std::max(w, r.action.name().size());
  std::printf("%-*s  %-6s  %s\n", static_cast<int>(w), "TEST", "RESULT", "SOURCE -> DESTINATION");
  for (const auto& r : results) {
    const Action& a = r.action;
    std::string path = endpoint_text(a.src, a.src.addr(a.v6), 0, a.v6) + " -> " +
                       endpoint_text(a.dst, a.dst_addr, a.port, a.v6);
    std::printf("%-*s  %-6s  %s%s\n", static_cast<int>(w), a.name().c_str(), r.ok ? "ok" : "FAIL", path.c_str(),
                r.detail.empty() ? "" : ("  [" + r.detail + "]").c_str());
  }
  std::cout << "\nSkipped (" << skipped.size() << " upstream tests and scenarios, feature not yet in ciliumpp or the lab):\n";
  size_t sw = 4;
  for (const auto& s : skipped) sw = std::max(sw, s.name.size());
  for (const auto& s : skipped) std::printf("  %-*s  %s\n", static_cast<int>(sw), s.name.c_str(), s.reason.c_str());
  std::cout << "\n" << passed << " passed, " << failed << " failed\n";
  return failed ? 1 : 0;
}

}  // namespace cpp::lab
