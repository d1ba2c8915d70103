#include "lab/services.h"

#include <chrono>
#include <ctime>
#include <fstream>
#include <sstream>
#include <iostream>
#include <set>
#include <thread>

#include "common/ip.h"
#include "lab/lab.h"
#include "lab/proc.h"
#include "netlink/netns.h"
#include "service/endpointslice_controller.h"
#include "service/model.h"

namespace cpp::lab {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

bool wants_dual_stack(const json& spec) {
  std::string policy = spec.value("ipFamilyPolicy", std::string("SingleStack"));
  return policy == "PreferDualStack" || policy == "RequireDualStack";
}

std::vector<std::string> families_of(const json& spec) {
  std::vector<std::string> out;
  if (spec.contains("ipFamilies") && spec["ipFamilies"].is_array())
    for (const auto& f : spec["ipFamilies"])
      if (f.is_string()) out.push_back(f.get<std::string>());
  if (out.empty()) out = {"IPv4"};
  if (out.size() == 1 && wants_dual_stack(spec)) out.push_back(out[0] == "IPv4" ? "IPv6" : "IPv4");
  return out;
}

std::string service_key(const json& svc) {
  return svc["metadata"].value("namespace", std::string("default")) + "/" + svc["metadata"]["name"].get<std::string>();
}

std::string allocate_ip(const std::string& cidr, const std::set<std::string>& taken) {
  auto prefix = *IpPrefix::parse(cidr);
  // .0 is the network, .1 is upstream's kubernetes service; start at 10.
  for (uint64_t n = 10; n + 1 < prefix.size(); ++n) {
    std::string ip = prefix.nth(n).str();
    if (!taken.count(ip)) return ip;
  }
  throw std::invalid_argument("spec.clusterIP: the lab's service range " + cidr + " is full");
}

// Active backends (address:port) of `service` in one agent's GET /v1/service.
std::optional<std::set<std::string>> agent_backends(const NodeState& node, const std::string& service) {
  auto j = agent_get(node, "/v1/service", 3000);
  if (!j || !j->is_array()) return std::nullopt;
  std::set<std::string> out;
  for (const auto& s : *j) {
    const json& spec = s.contains("spec") ? s["spec"] : s;
    const json flags = spec.value("flags", json::object());
    if (flags.value("namespace", std::string()) + "/" + flags.value("name", std::string()) != service) continue;
    for (const auto& b : spec.value("backend-addresses", json::array()))
      if (b.value("state", std::string("active")) == "active")
        out.insert(service::L4Addr{*IpAddr::parse(b["ip"].get<std::string>()),
                                   static_cast<uint16_t>(b.value("port", 0)), service::Protocol::TCP}
                       .str());
  }
  return out;
}

std::set<std::string> expected_backends(const NodeState& node, store::ResourceStore& store,
                                        const std::string& service) {
  auto slash = service.find('/');
  std::string ns = service.substr(0, slash), name = service.substr(slash + 1);
  std::set<std::string> out;
  auto obj = store.get("Service", ns, name);
  if (!obj) return out;
  service::Service svc = service::parse_service(*obj);
  std::vector<service::EndpointSlice> slices;
  for (const auto& s : store.list("EndpointSlice", ns))
    if (s["metadata"].value("labels", json::object()).value("kubernetes.io/service-name", std::string()) == name)
      slices.push_back(service::parse_endpoint_slice(s));
  service::NodeView view;
  view.node_name = node.name;
  for (const auto& a : {node.ipv4, node.ipv6})
    if (auto ip = IpAddr::parse(a)) view.node_addresses.push_back(*ip);
  for (const auto& fe : service::frontends_of(svc, slices, view))
    for (const auto& b : fe.backends)
      if (!b.terminating) out.insert(service::L4Addr{b.addr.addr, b.addr.port, service::Protocol::TCP}.str());
  return out;
}

std::string rfc3339_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

// TCP connections of a namespace that are still exchanging data: every
// socket but listeners and TIME_WAIT ones (/proc/net/tcp{,6} as seen from
// inside the namespace).
size_t open_tcp_connections(const std::string& netns_path) {
  size_t n = 0;
  cpp::run_in_netns(cpp::NetnsHandle::open_path(netns_path), [&] {
    for (const char* f : {"/proc/thread-self/net/tcp", "/proc/thread-self/net/tcp6"}) {
      std::ifstream in(f);
      std::string line;
      std::getline(in, line);  // header
      while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string sl, local, remote, state;
        fields >> sl >> local >> remote >> state;
        if (state != "0A" && state != "06") ++n;  // LISTEN, TIME_WAIT
      }
    }
  });
  return n;
}

}  // namespace

ServiceAdmission::ServiceAdmission(store::ResourceStore& store) : store_(store) {
  for (const auto& s : store.list("Service")) {
    if (!s.contains("spec")) continue;
    const auto& spec = s["spec"];
    std::string key = service_key(s);
    if (spec.contains("clusterIPs"))
      for (const auto& ip : spec["clusterIPs"])
        if (ip.is_string()) ips_[key].insert(ip.get<std::string>());
    if (spec.contains("ports"))
      for (const auto& p : spec["ports"])
        if (p.contains("nodePort") && p["nodePort"].is_number_integer()) node_ports_[key].insert(p["nodePort"].get<int>());
  }
}

json ServiceAdmission::admit(json svc) {
  if (!svc.contains("spec") || !svc["spec"].is_object()) svc["spec"] = json::object();
  json& spec = svc["spec"];
  const std::string self = service_key(svc);
  std::set<std::string> taken_ips;
  std::set<int> taken_ports;
  for (const auto& [k, v] : ips_)
    if (k != self) taken_ips.insert(v.begin(), v.end());
  for (const auto& [k, v] : node_ports_)
    if (k != self) taken_ports.insert(v.begin(), v.end());
  // An update keeps what the API server gave the object before.
  auto ns = svc["metadata"].value("namespace", std::string("default"));
  if (auto old = store_.get("Service", ns, svc["metadata"]["name"].get<std::string>())) {
    const json& os = (*old)["spec"];
    for (const char* f : {"clusterIP", "clusterIPs", "ipFamilies"})
      if (!spec.contains(f) && os.contains(f)) spec[f] = os[f];
  }
  std::string type = spec.value("type", std::string("ClusterIP"));
  std::string cluster_ip = spec.value("clusterIP", std::string());
  if (cluster_ip != "None" && !spec.contains("clusterIPs")) {
    json ips = json::array();
    auto families = families_of(spec);
    for (const auto& f : families) {
      if (f != "IPv4" && f != "IPv6") throw std::invalid_argument("spec.ipFamilies: unknown family \"" + f + "\"");
      if (!cluster_ip.empty() && ips.empty() && (cluster_ip.find(':') != std::string::npos) == (f == "IPv6")) {
        ips.push_back(cluster_ip);
        continue;
      }
      std::string ip = allocate_ip(f == "IPv4" ? kServiceCidrIpv4 : kServiceCidrIpv6, taken_ips);
      taken_ips.insert(ip);
      ips.push_back(ip);
    }
    spec["clusterIPs"] = ips;
    spec["clusterIP"] = ips[0];
    spec["ipFamilies"] = families;
  }
  if ((type == "NodePort" || type == "LoadBalancer") && spec.contains("ports") && spec["ports"].is_array()) {
    int next = kNodePortMin;
    for (auto& p : spec["ports"]) {
      if (!p.is_object() || (p.contains("nodePort") && p["nodePort"].is_number_integer())) continue;
      while (next <= kNodePortMax && taken_ports.count(next)) ++next;
      if (next > kNodePortMax) throw std::invalid_argument("spec.ports: no free node port left in 30000-32767");
      p["nodePort"] = next;
      taken_ports.insert(next++);
    }
  }
  service::parse_service(svc);
  auto& mine = ips_[self];
  mine.clear();
  for (const auto& ip : spec.value("clusterIPs", json::array())) mine.insert(ip.get<std::string>());
  auto& ports = node_ports_[self];
  ports.clear();
  for (const auto& p : spec.value("ports", json::array()))
    if (p.is_object() && p.contains("nodePort") && p["nodePort"].is_number_integer()) ports.insert(p["nodePort"].get<int>());
  return svc;
}

std::vector<std::string> sync_endpoint_slices(store::ResourceStore& store) {
  std::vector<std::string> changed;
  // A pod whose Ready condition is False is left out of the slices (no
  // readiness probes here: `cilium-lab pod add --not-ready` / `pod ready`).
  std::vector<json> pods;
  for (auto& p : store.list("Pod")) {
    bool ready = true;
    for (const auto& c : p.value("status", json::object()).value("conditions", json::array()))
      if (c.value("type", std::string()) == "Ready" && c.value("status", std::string()) == "False") ready = false;
    if (ready) pods.push_back(std::move(p));
  }
  std::set<std::pair<std::string, std::string>> wanted;
  for (const auto& svc : store.list("Service")) {
    std::string ns = svc["metadata"].value("namespace", std::string("default"));
    bool touched = false;
    for (auto& slice : service::slices_for(svc, pods)) {
      wanted.insert({ns, slice["metadata"]["name"].get<std::string>()});
      if (store.put(slice).outcome != store::PutOutcome::Unchanged) touched = true;
    }
    // Slices of this service that the controller no longer wants.
    for (const auto& s : store.list("EndpointSlice", ns)) {
      auto labels = s["metadata"].value("labels", json::object());
      if (labels.value("kubernetes.io/service-name", std::string()) != svc["metadata"]["name"]) continue;
      if (!wanted.count({ns, s["metadata"]["name"].get<std::string>()})) {
        store.remove("EndpointSlice", ns, s["metadata"]["name"]);
        touched = true;
      }
    }
    if (touched) changed.push_back(service_key(svc));
  }
  // Slices whose service is gone.
  for (const auto& s : store.list("EndpointSlice")) {
    auto labels = s["metadata"].value("labels", json::object());
    std::string owner = labels.value("kubernetes.io/service-name", std::string());
    std::string ns = s["metadata"].value("namespace", std::string("default"));
    if (owner.empty() || store.get("Service", ns, owner)) continue;
    store.remove("EndpointSlice", ns, s["metadata"]["name"]);
    changed.push_back(ns + "/" + owner);
  }
  return changed;
}

bool wait_service_realized(const LabState& lab, store::ResourceStore& store, const std::string& service) {
  auto deadline = Clock::now() + std::chrono::seconds(60);
  for (const auto& n : lab.nodes) {
    if (!process_alive(n.agent)) continue;
    auto want = expected_backends(n, store, service);
    for (;;) {
      auto have = agent_backends(n, service);
      if (have && *have == want) break;
      if (Clock::now() > deadline) {
        std::cerr << "cilium-lab: " << n.name << " did not program service " << service << " in time (wants "
                  << want.size() << " active backends, has " << (have ? std::to_string(have->size()) : "no answer")
                  << ")\n";
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return true;
}

std::vector<std::string> drain_pod(const LabState& lab, store::ResourceStore& store, const PodState& pod) {
  std::vector<std::string> problems;
  auto obj = store.get("Pod", pod.ns, pod.name);
  if (!obj) return problems;
  (*obj)["metadata"]["deletionTimestamp"] = rfc3339_now();
  try {
    store.put(*obj);
    for (const auto& svc : sync_endpoint_slices(store))
      if (!wait_service_realized(lab, store, svc)) problems.push_back("service " + svc + " was not updated in time");
    // The termination grace period: connections that reached the pod just
    // before the agents stopped picking it finish first.
    auto deadline = Clock::now() + std::chrono::seconds(30);
    while (open_tcp_connections(pod.netns_path()) > 0) {
      if (Clock::now() > deadline) {
        problems.push_back("connections to the pod still open after 30 s; deleting it anyway");
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  } catch (const std::exception& e) {
    problems.push_back(std::string("drain: ") + e.what());
  }
  return problems;
}

// Pods come and go: the EndpointSlice controller's part, then wait for the
// agents so the next command sees the new backends.
void follow_services(const LabState& lab, store::ResourceStore& store) {
  try {
    for (const auto& svc : sync_endpoint_slices(store))
      if (!wait_service_realized(lab, store, svc))
        std::cerr << "cilium-lab: warning: service " << svc << " not updated on every node\n";
  } catch (const std::exception& e) {
    std::cerr << "cilium-lab: warning: EndpointSlices not updated: " << e.what() << "\n";
  }
}

}  // namespace cpp::lab
