// Parsing of v1 Service and discovery.k8s.io/v1 EndpointSlice objects.
#include "service/model.h"


#include "service/json_read.h"

namespace cpp::service {

using namespace json_read;

const char* to_string(Protocol p) {
  switch (p) {
    case Protocol::TCP: return "TCP";
    case Protocol::UDP: return "UDP";
    case Protocol::SCTP: return "SCTP";
  }
  return "?";
}

const char* to_string(FrontendType t) {
  switch (t) {
    case FrontendType::ClusterIP: return "ClusterIP";
    case FrontendType::NodePort: return "NodePort";
    case FrontendType::ExternalIP: return "ExternalIPs";
    case FrontendType::LoadBalancer: return "LoadBalancer";
  }
  return "?";
}

std::string L4Addr::str() const {
  std::string a = addr.v6 ? "[" + addr.str() + "]" : addr.str();
  return a + ":" + std::to_string(port) + "/" + to_string(protocol);
}

size_t Frontend::active_count() const {
  size_t n = 0;
  for (auto& b : backends) n += b.terminating ? 0 : 1;
  return n;
}

namespace {

Protocol parse_protocol(const nlohmann::json& obj, const std::string& path) {
  auto p = opt_string(obj, "protocol", path);
  if (!p || *p == "TCP") return Protocol::TCP;
  if (*p == "UDP") return Protocol::UDP;
  if (*p == "SCTP") return Protocol::SCTP;
  fail(path + ".protocol", "unsupported protocol \"" + *p + "\"");
}

TrafficPolicy parse_policy(const nlohmann::json& spec, const char* name) {
  auto v = opt_string(spec, name, "spec");
  if (!v || v->empty() || *v == "Cluster") return TrafficPolicy::Cluster;
  if (*v == "Local") return TrafficPolicy::Local;
  fail(std::string("spec.") + name, "must be Cluster or Local, got \"" + *v + "\"");
}

std::vector<IpAddr> ip_list(const nlohmann::json& obj, const char* name, const std::string& path) {
  std::vector<IpAddr> out;
  auto* m = member(obj, name, path);
  if (!m) return out;
  std::string p = path + "." + name;
  expect_array(*m, p);
  for (size_t i = 0; i < m->size(); ++i) out.push_back(get_ip((*m)[i], p + "[" + std::to_string(i) + "]"));
  return out;
}

void parse_metadata(const nlohmann::json& obj, std::string& ns, std::string& name) {
  auto* md = member(obj, "metadata", "");
  if (!md) fail("metadata", "missing");
  auto n = opt_string(*md, "name", "metadata");
  if (!n || n->empty()) fail("metadata.name", "missing");
  name = *n;
  ns = opt_string(*md, "namespace", "metadata").value_or("");
  if (ns.empty()) ns = "default";
}

std::vector<IpAddr> parse_cluster_ips(const nlohmann::json& spec) {
  std::vector<std::string> raw;
  std::string path = "spec.clusterIPs";
  if (auto* ips = member(spec, "clusterIPs", "spec")) {
    expect_array(*ips, path);
    for (size_t i = 0; i < ips->size(); ++i) raw.push_back(get_string((*ips)[i], path + "[" + std::to_string(i) + "]"));
  } else if (auto ip = opt_string(spec, "clusterIP", "spec")) {
    path = "spec.clusterIP";
    raw.push_back(*ip);
  }
  std::vector<IpAddr> out;
  for (size_t i = 0; i < raw.size(); ++i) {
    std::string p = path == "spec.clusterIP" ? path : path + "[" + std::to_string(i) + "]";
    if (raw[i] == "None" || raw[i].empty()) {
      if (raw.size() > 1) fail(p, "\"" + raw[i] + "\" must be the only entry");
      return {};
    }
    auto a = IpAddr::parse(raw[i]);
    if (!a) fail(p, "invalid IP address \"" + raw[i] + "\"");
    for (auto& o : out)
      if (o.v6 == a->v6) fail(p, "a second " + std::string(a->v6 ? "IPv6" : "IPv4") + " cluster IP");
    out.push_back(*a);
  }
  return out;
}

ServicePort parse_port(const nlohmann::json& j, const std::string& path, bool node_ports_allowed) {
  expect_object(j, path);
  ServicePort sp;
  sp.name = opt_string(j, "name", path).value_or("");
  sp.protocol = parse_protocol(j, path);
  auto port = opt_int(j, "port", path);
  if (!port) fail(path + ".port", "missing");
  sp.port = port_number(*port, path + ".port");
  if (auto np = opt_int(j, "nodePort", path); np && *np != 0) {
    if (!node_ports_allowed) fail(path + ".nodePort", "only NodePort and LoadBalancer services have node ports");
    sp.node_port = port_number(*np, path + ".nodePort");
  }
  if (auto* tp = member(j, "targetPort", path)) {
    if (tp->is_number_integer()) {
      sp.target_port = std::to_string(port_number(tp->get<int64_t>(), path + ".targetPort"));
    } else if (tp->is_string()) {
      sp.target_port = tp->get<std::string>();
      if (sp.target_port.empty()) fail(path + ".targetPort", "empty port name");
    } else {
      fail(path + ".targetPort", "expected a number or a port name, got " + type_name(*tp));
    }
  }
  return sp;
}

}  // namespace

Service parse_service(const nlohmann::json& obj) {
  expect_object(obj, "service");
  Service s;
  parse_metadata(obj, s.ns, s.name);
  auto& md = obj["metadata"];
  s.labels = string_map(md, "labels", "metadata");
  s.annotations = string_map(md, "annotations", "metadata");
  s.creation_timestamp = opt_string(md, "creationTimestamp", "metadata").value_or("");
  s.uid = opt_string(md, "uid", "metadata").value_or("");

  static const nlohmann::json kEmpty = nlohmann::json::object();
  const nlohmann::json* spec = member(obj, "spec", "");
  if (!spec) spec = &kEmpty;
  expect_object(*spec, "spec");
  s.type = opt_string(*spec, "type", "spec").value_or("ClusterIP");
  if (s.type == "ExternalName")
    fail("spec.type", "ExternalName services are not supported (a DNS alias has no address to load-balance)");
  if (s.type != "ClusterIP" && s.type != "NodePort" && s.type != "LoadBalancer")
    fail("spec.type", "must be ClusterIP, NodePort or LoadBalancer, got \"" + s.type + "\"");
  bool external = s.type != "ClusterIP";

  s.cluster_ips = parse_cluster_ips(*spec);
  if (auto* fams = member(*spec, "ipFamilies", "spec")) {
    expect_array(*fams, "spec.ipFamilies");
    for (size_t i = 0; i < fams->size(); ++i) {
      std::string p = "spec.ipFamilies[" + std::to_string(i) + "]";
      std::string f = get_string((*fams)[i], p);
      if (f != "IPv4" && f != "IPv6") fail(p, "must be IPv4 or IPv6, got \"" + f + "\"");
      for (auto& o : s.ip_families)
        if (o == f) fail(p, "duplicate family " + f);
      s.ip_families.push_back(f);
    }
  }
  s.ip_family_policy = opt_string(*spec, "ipFamilyPolicy", "spec").value_or("");
  if (!s.ip_family_policy.empty() && s.ip_family_policy != "SingleStack" && s.ip_family_policy != "PreferDualStack" &&
      s.ip_family_policy != "RequireDualStack")
    fail("spec.ipFamilyPolicy", "must be SingleStack, PreferDualStack or RequireDualStack, got \"" +
                                    s.ip_family_policy + "\"");
  s.external_ips = ip_list(*spec, "externalIPs", "spec");
  s.load_balancer_ip = opt_string(*spec, "loadBalancerIP", "spec").value_or("");
  s.load_balancer_class = opt_string(*spec, "loadBalancerClass", "spec");
  s.selector = string_map(*spec, "selector", "spec");

  if (auto* ports = member(*spec, "ports", "spec")) {
    expect_array(*ports, "spec.ports");
    std::map<std::pair<uint16_t, Protocol>, size_t> seen;
    std::map<std::string, size_t> names;
    for (size_t i = 0; i < ports->size(); ++i) {
      std::string p = "spec.ports[" + std::to_string(i) + "]";
      ServicePort sp = parse_port((*ports)[i], p, external);
      auto [it, fresh] = seen.emplace(std::pair{sp.port, sp.protocol}, i);
      if (!fresh)
        fail(p, "duplicate port " + std::to_string(sp.port) + "/" + to_string(sp.protocol) + " (also spec.ports[" +
                    std::to_string(it->second) + "])");
      auto [nit, nfresh] = names.emplace(sp.name, i);
      if (!nfresh)
        fail(p + ".name", "duplicate name \"" + sp.name + "\" (also spec.ports[" + std::to_string(nit->second) + "])");
      s.ports.push_back(std::move(sp));
    }
  }

  s.external_policy = parse_policy(*spec, "externalTrafficPolicy");
  if (s.external_policy == TrafficPolicy::Local && !external)
    fail("spec.externalTrafficPolicy", "Local is only for NodePort and LoadBalancer services");
  s.internal_policy = parse_policy(*spec, "internalTrafficPolicy");

  auto aff = opt_string(*spec, "sessionAffinity", "spec").value_or("None");
  if (aff == "ClientIP") {
    s.affinity_client_ip = true;
    const std::string p = "spec.sessionAffinityConfig.clientIP";
    if (auto* cfg = member(*spec, "sessionAffinityConfig", "spec"))
      if (auto* cip = member(*cfg, "clientIP", "spec.sessionAffinityConfig"))
        if (auto t = opt_int(*cip, "timeoutSeconds", p)) {
          if (*t < 1 || *t > 86400) fail(p + ".timeoutSeconds", "must be 1..86400, got " + std::to_string(*t));
          s.affinity_timeout_s = static_cast<uint32_t>(*t);
        }
  } else if (aff != "None" && !aff.empty()) {
    fail("spec.sessionAffinity", "must be None or ClientIP, got \"" + aff + "\"");
  }

  if (auto* status = member(obj, "status", ""))
    if (auto* lb = member(*status, "loadBalancer", "status"))
      if (auto* ing = member(*lb, "ingress", "status.loadBalancer")) {
        expect_array(*ing, "status.loadBalancer.ingress");
        for (size_t i = 0; i < ing->size(); ++i) {
          std::string p = "status.loadBalancer.ingress[" + std::to_string(i) + "]";
          // Hostname-only entries (cloud load balancers) have nothing to program.
          if (auto* ip = member((*ing)[i], "ip", p)) s.lb_ingress.push_back(get_ip(*ip, p + ".ip"));
        }
      }
  return s;
}

EndpointSlice parse_endpoint_slice(const nlohmann::json& obj) {
  expect_object(obj, "endpointslice");
  EndpointSlice es;
  parse_metadata(obj, es.ns, es.name);
  auto labels = string_map(obj["metadata"], "labels", "metadata");
  auto svc = labels.find("kubernetes.io/service-name");
  if (svc == labels.end() || svc->second.empty())
    fail("metadata.labels", "missing kubernetes.io/service-name (the owning service)");
  es.service_name = svc->second;

  auto at = opt_string(obj, "addressType", "");
  if (!at) fail("addressType", "missing");
  es.address_type = *at;
  if (es.address_type == "FQDN") return es;  // nothing a load balancer can use
  if (es.address_type != "IPv4" && es.address_type != "IPv6")
    fail("addressType", "must be IPv4, IPv6 or FQDN, got \"" + es.address_type + "\"");
  bool v6 = es.address_type == "IPv6";

  if (auto* eps = member(obj, "endpoints", "")) {
    expect_array(*eps, "endpoints");
    for (size_t i = 0; i < eps->size(); ++i) {
      std::string p = "endpoints[" + std::to_string(i) + "]";
      auto& e = (*eps)[i];
      expect_object(e, p);
      SliceEndpoint se;
      auto* addrs = member(e, "addresses", p);
      if (!addrs) fail(p + ".addresses", "missing");
      expect_array(*addrs, p + ".addresses");
      for (size_t k = 0; k < addrs->size(); ++k) {
        std::string ap = p + ".addresses[" + std::to_string(k) + "]";
        IpAddr a = get_ip((*addrs)[k], ap);
        if (a.v6 != v6) fail(ap, "\"" + a.str() + "\" is not an " + es.address_type + " address");
        se.addresses.push_back(a);
      }
      // Kubernetes: absent ready = ready, absent serving = as ready, absent terminating = not terminating.
      if (auto* c = member(e, "conditions", p)) {
        std::string cp = p + ".conditions";
        se.ready = opt_bool(*c, "ready", cp).value_or(true);
        se.serving = opt_bool(*c, "serving", cp).value_or(se.ready);
        se.terminating = opt_bool(*c, "terminating", cp).value_or(false);
      }
      se.node_name = opt_string(e, "nodeName", p).value_or("");
      if (auto* tr = member(e, "targetRef", p)) {
        std::string tp = p + ".targetRef";
        if (opt_string(*tr, "kind", tp).value_or("") == "Pod")
          se.target_ref = opt_string(*tr, "namespace", tp).value_or(es.ns) + "/" + opt_string(*tr, "name", tp).value_or("");
      }
      es.endpoints.push_back(std::move(se));
    }
  }
  if (auto* ports = member(obj, "ports", "")) {
    expect_array(*ports, "ports");
    for (size_t i = 0; i < ports->size(); ++i) {
      std::string p = "ports[" + std::to_string(i) + "]";
      expect_object((*ports)[i], p);
      SlicePort sp;
      sp.name = opt_string((*ports)[i], "name", p).value_or("");
      sp.protocol = parse_protocol((*ports)[i], p);
      // An absent port means "all ports", which a port-translating load balancer cannot use: kept as 0.
      if (auto n = opt_int((*ports)[i], "port", p)) sp.port = port_number(*n, p + ".port");
      es.ports.push_back(std::move(sp));
    }
  }
  return es;
}

}  // namespace cpp::service
