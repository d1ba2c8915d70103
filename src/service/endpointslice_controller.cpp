#include "service/endpointslice_controller.h"

#include <algorithm>
#include <stdexcept>
#include <tuple>

#include "service/json_read.h"
#include "service/model.h"

namespace cpp::service {

using namespace json_read;
using nlohmann::json;

namespace {

struct ContainerPort {
  std::string name;
  Protocol protocol = Protocol::TCP;
  uint16_t port = 0;
};

struct Pod {
  std::string ns, name, uid, node_name;
  std::map<std::string, std::string> labels;
  std::vector<IpAddr> ips;
  std::vector<ContainerPort> ports;
  bool deleting = false, ready = true;
};

Protocol protocol_of(const json& obj, const std::string& path) {
  auto p = opt_string(obj, "protocol", path).value_or("TCP");
  if (p == "TCP") return Protocol::TCP;
  if (p == "UDP") return Protocol::UDP;
  if (p == "SCTP") return Protocol::SCTP;
  fail(path + ".protocol", "unsupported protocol \"" + p + "\"");
}

Pod parse_pod(const json& j) {
  Pod p;
  expect_object(j, "pod");
  auto* md = member(j, "metadata", "");
  if (!md) fail("metadata", "missing");
  p.name = opt_string(*md, "name", "metadata").value_or("");
  if (p.name.empty()) fail("metadata.name", "missing");
  p.ns = opt_string(*md, "namespace", "metadata").value_or("");
  if (p.ns.empty()) p.ns = "default";
  p.uid = opt_string(*md, "uid", "metadata").value_or("");
  p.labels = string_map(*md, "labels", "metadata");
  p.deleting = member(*md, "deletionTimestamp", "metadata") != nullptr;
  if (auto* spec = member(j, "spec", "")) {
    p.node_name = opt_string(*spec, "nodeName", "spec").value_or("");
    if (auto* cs = member(*spec, "containers", "spec")) {
      expect_array(*cs, "spec.containers");
      for (size_t i = 0; i < cs->size(); ++i) {
        std::string cp = "spec.containers[" + std::to_string(i) + "]";
        auto* ports = member((*cs)[i], "ports", cp);
        if (!ports) continue;
        expect_array(*ports, cp + ".ports");
        for (size_t k = 0; k < ports->size(); ++k) {
          std::string pp = cp + ".ports[" + std::to_string(k) + "]";
          ContainerPort c;
          c.name = opt_string((*ports)[k], "name", pp).value_or("");
          c.protocol = protocol_of((*ports)[k], pp);
          auto n = opt_int((*ports)[k], "containerPort", pp);
          if (!n) fail(pp + ".containerPort", "missing");
          c.port = port_number(*n, pp + ".containerPort");
          p.ports.push_back(std::move(c));
        }
      }
    }
  }
  if (auto* st = member(j, "status", "")) {
    auto phase = opt_string(*st, "phase", "status").value_or("");
    if (auto* ips = member(*st, "podIPs", "status")) {
      expect_array(*ips, "status.podIPs");
      for (size_t i = 0; i < ips->size(); ++i) {
        std::string ip = "status.podIPs[" + std::to_string(i) + "]";
        if (auto* a = member((*ips)[i], "ip", ip)) p.ips.push_back(get_ip(*a, ip + ".ip"));
      }
    } else if (auto* a = member(*st, "podIP", "status")) {
      p.ips.push_back(get_ip(*a, "status.podIP"));
    }
    // Pods without a Ready condition (the lab's) count as ready.
    if (auto* conds = member(*st, "conditions", "status")) {
      expect_array(*conds, "status.conditions");
      for (size_t i = 0; i < conds->size(); ++i) {
        std::string cp = "status.conditions[" + std::to_string(i) + "]";
        if (opt_string((*conds)[i], "type", cp).value_or("") == "Ready")
          p.ready = opt_string((*conds)[i], "status", cp).value_or("") == "True";
      }
    }
    // Finished pods serve nothing.
    if (phase == "Succeeded" || phase == "Failed") p.ips.clear();
  }
  return p;
}

bool is_number(const std::string& s) {
  return !s.empty() && s.size() <= 5 && s.find_first_not_of("0123456789") == std::string::npos;
}

using PortList = std::vector<std::tuple<std::string, Protocol, uint16_t>>;

// The slice ports this pod serves: numeric target ports always, named ones
// when the pod has a container port of that name and protocol.
PortList ports_for(const Service& svc, const Pod* pod) {
  PortList out;
  for (auto& sp : svc.ports) {
    uint16_t n = 0;
    if (sp.target_port.empty()) {
      n = sp.port;
    } else if (is_number(sp.target_port)) {
      n = static_cast<uint16_t>(std::stoi(sp.target_port));
    } else if (pod) {
      for (auto& c : pod->ports)
        if (c.name == sp.target_port && c.protocol == sp.protocol) n = c.port;
    }
    if (n) out.emplace_back(sp.name, sp.protocol, n);
  }
  return out;
}

json slice_json(const Service& svc, const std::string& name, bool v6, const PortList& ports,
                const std::vector<std::pair<const Pod*, IpAddr>>& eps) {
  json s;
  s["apiVersion"] = "discovery.k8s.io/v1";
  s["kind"] = "EndpointSlice";
  s["metadata"] = {{"name", name},
                   {"namespace", svc.ns},
                   {"labels",
                    {{"kubernetes.io/service-name", svc.name},
                     {"endpointslice.kubernetes.io/managed-by", "endpointslice-controller.k8s.io"}}}};
  json owner = {{"apiVersion", "v1"}, {"kind", "Service"}, {"name", svc.name}, {"controller", true},
                {"blockOwnerDeletion", true}};
  if (!svc.uid.empty()) owner["uid"] = svc.uid;
  s["metadata"]["ownerReferences"] = json::array({owner});
  s["addressType"] = v6 ? "IPv6" : "IPv4";
  s["endpoints"] = json::array();
  for (auto& [pod, ip] : eps) {
    json e = {{"addresses", {ip.str()}},
              {"conditions",
               {{"ready", pod->ready && !pod->deleting}, {"serving", pod->ready}, {"terminating", pod->deleting}}},
              {"targetRef", {{"kind", "Pod"}, {"namespace", pod->ns}, {"name", pod->name}}}};
    if (!pod->uid.empty()) e["targetRef"]["uid"] = pod->uid;
    if (!pod->node_name.empty()) e["nodeName"] = pod->node_name;
    s["endpoints"].push_back(std::move(e));
  }
  s["ports"] = json::array();
  for (auto& [pname, proto, port] : ports)
    s["ports"].push_back({{"name", pname}, {"protocol", to_string(proto)}, {"port", port}});
  return s;
}

}  // namespace

std::vector<json> slices_for(const json& service, const std::vector<json>& pods_json) {
  Service svc = parse_service(service);
  if (svc.cluster_ips.empty() || svc.selector.empty()) return {};

  std::vector<Pod> pods;
  for (auto& pj : pods_json) {
    try {
      pods.push_back(parse_pod(pj));
    } catch (const std::invalid_argument& e) {
      std::string who = "pod";
      if (pj.is_object() && pj.contains("metadata") && pj["metadata"].is_object()) {
        auto& md = pj["metadata"];
        std::string ns = md.value("namespace", std::string("default"));
        who += " " + (ns.empty() ? std::string("default") : ns) + "/" + md.value("name", std::string("?"));
      }
      throw std::invalid_argument(who + ": " + e.what());
    }
  }
  std::sort(pods.begin(), pods.end(), [](const Pod& a, const Pod& b) { return a.name < b.name; });

  std::vector<json> out;
  for (bool v6 : {false, true}) {
    if (std::none_of(svc.cluster_ips.begin(), svc.cluster_ips.end(), [&](const IpAddr& a) { return a.v6 == v6; }))
      continue;
    std::map<PortList, std::vector<std::pair<const Pod*, IpAddr>>> groups;
    for (auto& p : pods) {
      if (p.ns != svc.ns) continue;
      bool selected = std::all_of(svc.selector.begin(), svc.selector.end(), [&](auto& kv) {
        auto it = p.labels.find(kv.first);
        return it != p.labels.end() && it->second == kv.second;
      });
      if (!selected) continue;
      auto ip = std::find_if(p.ips.begin(), p.ips.end(), [&](const IpAddr& a) { return a.v6 == v6; });
      if (ip == p.ips.end()) continue;
      groups[ports_for(svc, &p)].emplace_back(&p, *ip);
    }
    std::string base = svc.name + (v6 ? "-ipv6" : "-ipv4");
    if (groups.empty()) {
      out.push_back(slice_json(svc, base, v6, ports_for(svc, nullptr), {}));
      continue;
    }
    // The largest group keeps the plain name (ties: the port list order).
    std::vector<const std::pair<const PortList, std::vector<std::pair<const Pod*, IpAddr>>>*> order;
    for (auto& g : groups) order.push_back(&g);
    std::stable_sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->second.size() > b->second.size(); });
    for (size_t i = 0; i < order.size(); ++i)
      out.push_back(slice_json(svc, i == 0 ? base : base + "-" + std::to_string(i + 1), v6, order[i]->first,
                               order[i]->second));
  }
  return out;
}

}  // namespace cpp::service
