// cilium-lab pod add / pod del: a pod is a network namespace plumbed by the
// CNI plugin, executed inside the node's namespace the way libcni does it.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <stdexcept>

#include "common/files.h"
#include "lab/lab.h"
#include "lab/cluster.h"
#include "lab/netns.h"
#include "lab/proc.h"
#include "lab/services.h"
#include "store/store.h"

namespace cpp::lab {

using nlohmann::json;

namespace {

std::string hex_of(const std::string& s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

struct CniOutcome {
  bool ok = false;
  json result;        // success: the plugin's result; failure: the CNI error object (when it printed one)
  std::string error;  // failure: one-line description
};

// Runs the command through every plugin of the node's conflist: ADD in order
// (each gets the previous result as prevResult), DEL in reverse (each gets the
// ADD result), as libcni does for a conflist.
CniOutcome cni_invoke(const LabState& lab, const NodeState& node, const PodState& pod, const std::string& command,
                      const std::string& pod_uid, const json& add_result) {
  CniOutcome out;
  auto text = cpp::read_file(node.conflist);
  if (!text) {
    out.error = "no CNI configuration at " + node.conflist + " (is cilium-agent on " + node.name + " ready?)";
    return out;
  }
  json conflist = json::parse(*text, nullptr, false);
  if (conflist.is_discarded() || !conflist.is_object() || !conflist.contains("plugins") ||
      !conflist["plugins"].is_array() || conflist["plugins"].empty()) {
    out.error = node.conflist + " is not a CNI conflist";
    return out;
  }
  std::vector<json> plugins(conflist["plugins"].begin(), conflist["plugins"].end());
  if (command == "DEL") std::reverse(plugins.begin(), plugins.end());

  std::string cni_args = "IgnoreUnknown=1;K8S_POD_NAMESPACE=" + pod.ns + ";K8S_POD_NAME=" + pod.name +
                         ";K8S_POD_INFRA_CONTAINER_ID=" + pod.container_id;
  if (!pod_uid.empty()) cni_args += ";K8S_POD_UID=" + pod_uid;
  std::string cni_path = lab.bin_dir + ":/opt/cni/bin:/usr/lib/cni";
  json prev = command == "DEL" ? add_result : json();
  for (auto conf : plugins) {
    if (!conf.is_object() || !conf.contains("type") || !conf["type"].is_string()) {
      out.error = node.conflist + ": a plugin entry has no \"type\"";
      return out;
    }
    std::string type = conf["type"].get<std::string>();
    std::string binary;
    for (const std::string& dir : {lab.bin_dir, std::string("/opt/cni/bin"), std::string("/usr/lib/cni")})
      if (::access((dir + "/" + type).c_str(), X_OK) == 0) {
        binary = dir + "/" + type;
        break;
      }
    if (binary.empty()) {
      out.error = "CNI plugin \"" + type + "\" not found in " + cni_path;
      return out;
    }
    conf["cniVersion"] = conflist.value("cniVersion", std::string("1.0.0"));
    conf["name"] = conflist.value("name", std::string("cilium"));
    if (!prev.is_null()) conf["prevResult"] = prev;

    RunOptions ro;
    ro.netns_path = node.netns_path();
    ro.env = {"CNI_COMMAND=" + command,        "CNI_CONTAINERID=" + pod.container_id,
              "CNI_NETNS=" + pod.netns_path(), "CNI_IFNAME=" + pod.ifname,
              "CNI_PATH=" + cni_path,          "CNI_ARGS=" + cni_args};
    ro.stdin_data = conf.dump();
    ro.timeout = std::chrono::seconds(60);
    RunResult r;
    try {
      r = run({binary}, ro);
    } catch (const std::exception& e) {
      out.error = e.what();
      return out;
    }
    json parsed = json::parse(r.out, nullptr, false);
    if (r.timed_out || r.exit_code != 0) {
      out.result = parsed.is_discarded() ? json() : parsed;
      std::string detail = r.timed_out ? "timed out after 60 s" : "exit code " + std::to_string(r.exit_code);
      if (!parsed.is_discarded() && parsed.is_object() && parsed.contains("msg")) {
        detail = parsed.value("msg", std::string());
        if (parsed.contains("details") && parsed["details"].is_string() && !parsed["details"].get<std::string>().empty())
          detail += ": " + parsed["details"].get<std::string>();
        if (parsed.contains("code")) detail += " [CNI error code " + parsed["code"].dump() + "]";
      } else if (!parsed.is_discarded() && parsed.is_object()) {
        detail += ": " + parsed.dump();
      } else {
        std::string err = r.err.empty() ? r.out : r.err;
        while (!err.empty() && err.back() == '\n') err.pop_back();
        if (!err.empty()) detail += ": " + err;
      }
      out.error = type + " " + command + " failed: " + detail;
      return out;
    }
    if (command == "ADD") {
      if (parsed.is_discarded() || !parsed.is_object()) {
        out.error = type + " ADD printed no JSON result: " + r.out;
        return out;
      }
      prev = parsed;
    }
  }
  out.ok = true;
  out.result = prev;
  return out;
}

void record_addresses(PodState& pod, const json& result) {
  if (!result.contains("ips") || !result["ips"].is_array()) return;
  for (const auto& ip : result["ips"]) {
    if (!ip.is_object() || !ip.contains("address") || !ip["address"].is_string()) continue;
    std::string a = ip["address"].get<std::string>();
    a = a.substr(0, a.find('/'));
    if (a.find(':') != std::string::npos) {
      if (pod.ipv6.empty()) pod.ipv6 = a;
    } else if (pod.ipv4.empty()) {
      pod.ipv4 = a;
    }
  }
}

json pod_object(const PodState& pod) {
  json labels = json::object();
  for (const auto& [k, v] : pod.labels) labels[k] = v;
  json spec{{"nodeName", pod.node}};
  if (!pod.ports.empty()) spec["containers"] = json::array({{{"name", "main"}, {"ports", pod.ports}}});
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", pod.name}, {"namespace", pod.ns}, {"labels", labels}}},
          {"spec", spec},
          {"status", {{"phase", "Pending"}}}};
}

// "serve-80-tcp=80/TCP,dns=53/UDP" -> [{name, containerPort, protocol}]
json parse_container_ports(const std::string& spec) {
  json out = json::array();
  size_t start = 0;
  while (start < spec.size()) {
    size_t end = spec.find(',', start);
    if (end == std::string::npos) end = spec.size();
    std::string item = spec.substr(start, end - start);
    start = end + 1;
    if (item.empty()) continue;
    auto eq = item.find('=');
    auto slash = item.find('/', eq == std::string::npos ? 0 : eq);
    std::string name = eq == std::string::npos ? "" : item.substr(0, eq);
    std::string port = eq == std::string::npos ? "" : item.substr(eq + 1, slash == std::string::npos ? std::string::npos : slash - eq - 1);
    std::string proto = slash == std::string::npos ? "TCP" : item.substr(slash + 1);
    bool numeric = !port.empty() && port.size() <= 5 && port.find_first_not_of("0123456789") == std::string::npos;
    if (name.empty() || !numeric || std::stoi(port) < 1 || std::stoi(port) > 65535 ||
        (proto != "TCP" && proto != "UDP" && proto != "SCTP"))
      throw std::invalid_argument("--ports: \"" + item + "\" is not NAME=PORT[/TCP|UDP|SCTP]");
    out.push_back({{"name", name}, {"containerPort", std::stoi(port)}, {"protocol", proto}});
  }
  return out;
}

}  // namespace

PodState add_pod(LabState& lab, const PodAddOptions& o) {
  validate_object_name("pod", o.pod);
  if (o.ns.empty()) throw std::invalid_argument("--namespace must not be empty");
  NodeState* node = lab.find_node(o.node);
  if (!node) throw std::invalid_argument("no node named \"" + o.node + "\" in lab " + lab.name);
  if (lab.find_pod(o.pod))
    throw std::invalid_argument("pod \"" + o.pod + "\" already exists in lab " + lab.name +
                                " (pod names are unique across Kubernetes namespaces in a lab)");
  if (o.pod == "underlay" || lab.find_node(o.pod))
    throw std::invalid_argument("\"" + o.pod + "\" is the name of a lab namespace; choose another pod name");
  if (!lab.agents) throw std::runtime_error("lab " + lab.name + " was started with --no-agent: it cannot run pods");

  PodState pod;
  pod.name = o.pod;
  pod.ns = o.ns;
  pod.node = o.node;
  pod.netns = lab.netns_prefix() + o.pod;
  pod.container_id = hex_of(lab.name + "/" + o.pod);
  pod.labels = o.labels;
  pod.ports = parse_container_ports(o.ports);
  if (netns_exists(pod.netns)) throw std::runtime_error("namespace " + pod.netns + " already exists");

  auto store_ptr = open_lab_store(lab);
  store::ResourceStore& store = *store_ptr;
  create_netns(pod.netns);
  std::string uid;
  try {
    run_checked({"ip", "-n", pod.netns, "link", "set", "lo", "up"});
    if (!store.get("Namespace", "", pod.ns))
      store.put({{"apiVersion", "v1"},
                 {"kind", "Namespace"},
                 {"metadata", {{"name", pod.ns}, {"labels", {{"kubernetes.io/metadata.name", pod.ns}}}}}});
    json stored = store.put(pod_object(pod)).object;
    uid = stored["metadata"].value("uid", std::string());
  } catch (...) {
    delete_netns(pod.netns);
    throw;
  }

  CniOutcome add = cni_invoke(lab, *node, pod, "ADD", uid, json());
  if (!add.ok) {
    // As a runtime does after a failed ADD: DEL (best effort), then drop the sandbox.
    cni_invoke(lab, *node, pod, "DEL", uid, json());
    delete_netns(pod.netns);
    store.remove("Pod", pod.ns, pod.name);
    if (!add.result.is_null()) std::cerr << add.result.dump(2) << "\n";
    throw std::runtime_error("pod " + pod.name + " on " + node->name + ": " + add.error);
  }
  pod.cni_result = add.result;
  record_addresses(pod, add.result);
  if (auto id = agent_endpoint_id(*node, pod.container_id)) pod.endpoint_id = *id;

  json obj = pod_object(pod);
  obj["status"] = {{"phase", "Running"}, {"hostIP", node->ipv4}, {"hostIPs", json::array()}, {"podIPs", json::array()}};
  obj["status"]["hostIPs"].push_back({{"ip", node->ipv4}});
  obj["status"]["hostIPs"].push_back({{"ip", node->ipv6}});
  if (!pod.ipv4.empty()) obj["status"]["podIPs"].push_back({{"ip", pod.ipv4}});
  if (!pod.ipv6.empty()) obj["status"]["podIPs"].push_back({{"ip", pod.ipv6}});
  if (!obj["status"]["podIPs"].empty()) obj["status"]["podIP"] = obj["status"]["podIPs"][0]["ip"];
  obj["status"]["conditions"] = json::array({{{"type", "Ready"}, {"status", o.ready ? "True" : "False"}}});
  try {
    store.put(obj);
  } catch (const std::exception& e) {
    std::cerr << "cilium-lab: warning: cannot update the status of Pod " << pod.ns << "/" << pod.name << ": "
              << e.what() << "\n";
  }
  lab.pods.push_back(pod);
  follow_services(lab, store);
  return pod;
}

std::vector<std::string> remove_pod(LabState& lab, const PodState& pod) {
  std::vector<std::string> errors;
  auto store_ptr = open_lab_store(lab);
  store::ResourceStore& store = *store_ptr;
  std::string uid;
  if (auto obj = store.get("Pod", pod.ns, pod.name)) uid = (*obj)["metadata"].value("uid", std::string());
  if (NodeState* node = lab.find_node(pod.node)) {
    CniOutcome del = cni_invoke(lab, *node, pod, "DEL", uid, pod.cni_result);
    if (!del.ok) errors.push_back(del.error);
  } else {
    errors.push_back("node " + pod.node + " is not part of the lab; CNI DEL skipped");
  }
  std::string err;
  if (!delete_netns(pod.netns, &err)) errors.push_back("delete namespace " + pod.netns + ": " + err);
  try {
    store.remove("Pod", pod.ns, pod.name);
  } catch (const std::exception& e) {
    errors.push_back(std::string("remove Pod object: ") + e.what());
  }
  std::erase_if(lab.pods, [&](const PodState& p) { return p.name == pod.name; });
  return errors;
}

int cmd_pod_add(const std::string& name, const PodAddOptions& o) {
  LabLock lock(name);
  LabState lab = load_lab(name);
  PodState pod;
  try {
    pod = add_pod(lab, o);
  } catch (const std::exception& e) {
    std::cerr << "cilium-lab pod add: " << e.what() << "\n";
    return 1;
  }
  save_lab(lab);
  std::cout << "pod " << pod.ns << "/" << pod.name << " on " << pod.node << ": netns " << pod.netns_path()
            << ", ipv4 " << (pod.ipv4.empty() ? "-" : pod.ipv4) << ", ipv6 " << (pod.ipv6.empty() ? "-" : pod.ipv6)
            << ", endpoint " << (pod.endpoint_id ? std::to_string(pod.endpoint_id) : "-") << "\n";
  return 0;
}

int cmd_pod_del(const std::string& name, const std::string& node, const std::string& pod_name) {
  LabLock lock(name);
  LabState lab = load_lab(name);
  PodState* pod = lab.find_pod(pod_name);
  if (!pod) {
    std::cerr << "cilium-lab pod del: no pod named \"" << pod_name << "\" in lab " << name << "\n";
    return 1;
  }
  if (pod->node != node) {
    std::cerr << "cilium-lab pod del: pod " << pod_name << " runs on " << pod->node << ", not on " << node << "\n";
    return 1;
  }
  PodState copy = *pod;
  std::vector<std::string> errors;
  {
    // Graceful deletion: no agent picks the pod for new connections before
    // it goes away (established ones keep it, as a terminating endpoint).
    auto store = open_lab_store(lab);
    errors = drain_pod(lab, *store, copy);
  }
  for (const auto& e : remove_pod(lab, copy)) errors.push_back(e);
  {
    auto store = open_lab_store(lab);
    follow_services(lab, *store);
  }
  save_lab(lab);
  for (const auto& e : errors) std::cerr << "cilium-lab pod del: " << e << "\n";
  if (!errors.empty()) return 1;
  std::cout << "pod " << copy.ns << "/" << copy.name << " deleted\n";
  return 0;
}

int cmd_pod_ready(const std::string& name, const std::string& pod_name) {
  LabLock lock(name);
  LabState lab = load_lab(name);
  PodState* pod = lab.find_pod(pod_name);
  if (!pod) {
    std::cerr << "cilium-lab pod ready: no pod named \"" << pod_name << "\" in lab " << name << "\n";
    return 1;
  }
  auto store = open_lab_store(lab);
  auto obj = store->get("Pod", pod->ns, pod->name);
  if (!obj) {
    std::cerr << "cilium-lab pod ready: Pod " << pod->ns << "/" << pod->name << " is not in the store\n";
    return 1;
  }
  (*obj)["status"]["conditions"] = json::array({{{"type", "Ready"}, {"status", "True"}}});
  store->put(*obj);
  follow_services(lab, *store);
  std::cout << "pod " << pod->ns << "/" << pod->name << " ready\n";
  return 0;
}

}  // namespace cpp::lab
