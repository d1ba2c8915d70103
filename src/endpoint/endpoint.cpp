#include "endpoint/endpoint.h"

#include <cstdio>
#include <stdexcept>

namespace cpp::endpoint {

nlohmann::json Endpoint::to_json() const {
  nlohmann::json j{
      {"id", id},
      {"container-id", container_id},
      {"interface-name", ifname},
      {"host-interface-name", host_ifname},
      {"host-ifindex", host_ifindex},
      {"netns", netns},
      {"mac", mac_str(mac)},
      {"host-mac", mac_str(host_mac)},
      {"k8s-namespace", k8s_namespace},
      {"k8s-pod-name", k8s_pod_name},
      {"labels", labels},
      {"identity", identity},
      {"state", state},
  };
  j["addressing"] = nlohmann::json::object();
  if (ipv4) j["addressing"]["ipv4"] = ipv4->str();
  if (ipv6) j["addressing"]["ipv6"] = ipv6->str();
  return j;
}

namespace {
std::string get_string(const nlohmann::json& j, const char* key, bool required) {
  if (!j.contains(key)) {
    if (required) throw std::invalid_argument(std::string("endpoint field '") + key + "' is required");
    return "";
  }
  if (!j[key].is_string()) throw std::invalid_argument(std::string("endpoint field '") + key + "' must be a string");
  return j[key].get<std::string>();
}

MacAddr get_mac(const nlohmann::json& j, const char* key) {
  auto s = get_string(j, key, true);
  auto m = parse_mac(s);
  if (!m) throw std::invalid_argument(std::string("endpoint field '") + key + "': invalid MAC \"" + s + "\"");
  return *m;
}

std::optional<IpAddr> get_ip(const nlohmann::json& j, const char* key, bool want_v6) {
  if (!j.contains(key)) return std::nullopt;
  if (!j[key].is_string()) throw std::invalid_argument(std::string("addressing.") + key + " must be a string");
  auto a = IpAddr::parse(j[key].get<std::string>());
  if (!a || a->v6 != want_v6)
    throw std::invalid_argument(std::string("addressing.") + key + ": invalid address " + j[key].dump());
  return a;
}
}  // namespace

Endpoint Endpoint::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw std::invalid_argument("endpoint must be a JSON object");
  Endpoint e;
  if (j.contains("id")) {
    if (!j["id"].is_number_unsigned() || j["id"].get<uint64_t>() > 65535)
      throw std::invalid_argument("endpoint field 'id' must be an integer 0..65535");
    e.id = j["id"].get<uint16_t>();
  }
  e.container_id = get_string(j, "container-id", true);
  if (e.container_id.empty()) throw std::invalid_argument("endpoint field 'container-id' is empty");
  if (auto v = get_string(j, "interface-name", false); !v.empty()) e.ifname = v;
  e.host_ifname = get_string(j, "host-interface-name", true);
  if (!j.contains("host-ifindex") || !j["host-ifindex"].is_number_integer() || j["host-ifindex"].get<int>() <= 0)
    throw std::invalid_argument("endpoint field 'host-ifindex' must be a positive integer");
  e.host_ifindex = j["host-ifindex"].get<int>();
  e.netns = get_string(j, "netns", false);
  e.mac = get_mac(j, "mac");
  e.host_mac = get_mac(j, "host-mac");
  e.k8s_namespace = get_string(j, "k8s-namespace", false);
  e.k8s_pod_name = get_string(j, "k8s-pod-name", false);
  if (j.contains("labels")) {
    if (!j["labels"].is_object()) throw std::invalid_argument("endpoint field 'labels' must be an object");
    for (auto& [k, v] : j["labels"].items()) {
      if (!v.is_string()) throw std::invalid_argument("endpoint label '" + k + "' must be a string");
      e.labels[k] = v.get<std::string>();
    }
  }
  if (j.contains("identity") && j["identity"].is_number_unsigned()) e.identity = j["identity"].get<uint32_t>();
  if (auto v = get_string(j, "state", false); !v.empty()) e.state = v;
  if (j.contains("addressing")) {
    const auto& a = j["addressing"];
    if (!a.is_object()) throw std::invalid_argument("endpoint field 'addressing' must be an object");
    e.ipv4 = get_ip(a, "ipv4", false);
    e.ipv6 = get_ip(a, "ipv6", true);
  }
  if (!e.ipv4 && !e.ipv6) throw std::invalid_argument("endpoint needs addressing.ipv4 or addressing.ipv6");
  return e;
}

nlohmann::json Endpoint::to_cilium_endpoint(const std::string& node_ip) const {
  std::string ns = k8s_namespace.empty() ? "default" : k8s_namespace;
  std::string name = k8s_pod_name.empty() ? container_id.substr(0, 12) : k8s_pod_name;
  nlohmann::json addressing = nlohmann::json::object();
  if (ipv4) addressing["ipv4"] = ipv4->str();
  if (ipv6) addressing["ipv6"] = ipv6->str();
  nlohmann::json label_list = nlohmann::json::array();
  nlohmann::json pod_labels = nlohmann::json::object();
  for (const auto& [k, v] : labels) {
    label_list.push_back(v.empty() ? k : k + "=" + v);
    // metadata.labels: the pod's own Kubernetes labels, without the ones Cilium derives.
    if (k.rfind("k8s:", 0) == 0 && k.rfind("k8s:io.kubernetes.", 0) != 0 && k.rfind("k8s:io.cilium.", 0) != 0)
      pod_labels[k.substr(4)] = v;
  }
  return {
      {"apiVersion", "cilium.io/v2"},
      {"kind", "CiliumEndpoint"},
      {"metadata", {{"name", name}, {"namespace", ns}, {"labels", pod_labels}}},
      {"status",
       {{"id", id},
        {"external-identifiers",
         {{"container-id", container_id},
          {"cni-attachment-id", container_id + ":" + ifname},
          {"k8s-namespace", ns},
          {"k8s-pod-name", name},
          {"pod-name", ns + "/" + name}}},
        {"identity", {{"id", identity}, {"labels", label_list}}},
        {"networking", {{"addressing", nlohmann::json::array({addressing})}, {"node", node_ip}}},
        {"state", state}}},
  };
}

nlohmann::json named_ports_of_pod(const nlohmann::json& pod) {
  nlohmann::json out = nlohmann::json::array();
  const auto spec = pod.value("spec", nlohmann::json::object());
  for (const auto& c : spec.value("containers", nlohmann::json::array())) {
    if (!c.is_object()) continue;
    for (const auto& p : c.value("ports", nlohmann::json::array())) {
      if (!p.is_object() || !p.contains("name") || !p["name"].is_string() || !p.contains("containerPort") ||
          !p["containerPort"].is_number_unsigned())
        continue;
      out.push_back({{"name", p["name"]},
                     {"port", p["containerPort"]},
                     {"protocol", p.value("protocol", std::string("TCP"))}});
    }
  }
  return out;
}

}  // namespace cpp::endpoint
