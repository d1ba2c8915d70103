#include "cni/commands.h"

#include <set>

#include "cni/agent_client.h"
#include "cni/cni_error.h"
#include "cni/pod_plumbing.h"
#include "common/log.h"
#include "netlink/rtnl.h"

namespace cpp::cni {
namespace {

std::string owner_of(const Invocation& inv) { return inv.container_id + ":" + inv.ifname; }

std::optional<IpAddr> addr_field(const nlohmann::json& j, const char* fam, const char* field) {
  if (!j.contains(fam) || !j[fam].contains(field)) return std::nullopt;
  return IpAddr::parse(j[fam][field].get<std::string>());
}

PodAddressing addressing_from_ipam(const nlohmann::json& ipam) {
  PodAddressing net;
  net.ipv4 = addr_field(ipam, "ipv4", "ip");
  net.gateway4 = addr_field(ipam, "ipv4", "gateway");
  net.ipv6 = addr_field(ipam, "ipv6", "ip");
  net.gateway6 = addr_field(ipam, "ipv6", "gateway");
  if (ipam.contains("mtu") && ipam["mtu"].is_number_integer()) net.mtu = ipam["mtu"].get<int>();
  return net;
}

nlohmann::json make_result(const NetConf& conf, const Invocation& inv, const std::string& host_if,
                           const std::string& host_mac, const std::string& pod_mac, const PodAddressing& net) {
  nlohmann::json ips = nlohmann::json::array();
  nlohmann::json routes = nlohmann::json::array();
  for (const auto& [addr, gw] : {std::pair{net.ipv4, net.gateway4}, std::pair{net.ipv6, net.gateway6}}) {
    if (!addr) continue;
    nlohmann::json ip{{"address", addr->str() + "/" + std::to_string(addr->bits())}, {"interface", 1}};
    if (gw) ip["gateway"] = gw->str();
    // CNI 0.3.x results carry an explicit IP version.
    if (conf.cni_version.rfind("0.3", 0) == 0) ip["version"] = addr->v6 ? "6" : "4";
    ips.push_back(ip);
    if (gw) routes.push_back({{"dst", addr->v6 ? "::/0" : "0.0.0.0/0"}, {"gw", gw->str()}});
  }
  return {
      {"cniVersion", conf.cni_version},
      {"interfaces", nlohmann::json::array({{{"name", host_if}, {"mac", host_mac}},
                                            {{"name", inv.ifname}, {"mac", pod_mac}, {"sandbox", inv.netns}}})},
      {"ips", ips},
      {"routes", routes},
      {"dns", nlohmann::json::object()},
  };
}

PodAddressing addressing_from_endpoint(const nlohmann::json& ep, const nlohmann::json& ipam) {
  PodAddressing net = addressing_from_ipam(ipam);
  const auto& a = ep["addressing"];
  net.ipv4 = a.contains("ipv4") ? IpAddr::parse(a["ipv4"].get<std::string>()) : std::nullopt;
  net.ipv6 = a.contains("ipv6") ? IpAddr::parse(a["ipv6"].get<std::string>()) : std::nullopt;
  return net;
}

}  // namespace

nlohmann::json cmd_add(const NetConf& conf, const Invocation& inv) {
  AgentClient agent(conf.socket_path);
  Netlink node_nl;
  std::string host_if = host_ifname(inv.container_id, inv.ifname);

  // A repeated ADD for a healthy attachment returns the same result.
  if (auto ep = agent.get_endpoint_by_container(inv.container_id)) {
    auto host = node_nl.get_link(host_if);
    if (host && (*ep)["interface-name"] == inv.ifname) {
      auto net = addressing_from_endpoint(*ep, agent.allocate_ips(owner_of(inv)));
      if (check_pod(inv.netns, inv.ifname, net).empty())
        return make_result(conf, inv, host_if, mac_str(host->mac), (*ep)["mac"].get<std::string>(), net);
    }
    // Half-present attachment: start over from a clean slate.
    agent.delete_endpoint_by_container(inv.container_id);
  }
  node_nl.remove_link(host_if);

  auto ipam = agent.allocate_ips(owner_of(inv));
  PodAddressing net = addressing_from_ipam(ipam);
  bool plumbed = false;
  try {
    PlumbedPod pod = plumb_pod(node_nl, inv.netns, host_if, inv.ifname, net);
    plumbed = true;
    nlohmann::json ep{
        {"container-id", inv.container_id},
        {"interface-name", inv.ifname},
        {"host-interface-name", host_if},
        {"host-ifindex", pod.host.ifindex},
        {"netns", inv.netns},
        {"mac", mac_str(pod.pod.mac)},
        {"host-mac", mac_str(pod.host.mac)},
        {"addressing", nlohmann::json::object()},
    };
    if (net.ipv4) ep["addressing"]["ipv4"] = net.ipv4->str();
    if (net.ipv6) ep["addressing"]["ipv6"] = net.ipv6->str();
    if (auto it = inv.args.find("K8S_POD_NAMESPACE"); it != inv.args.end()) ep["k8s-namespace"] = it->second;
    if (auto it = inv.args.find("K8S_POD_NAME"); it != inv.args.end()) ep["k8s-pod-name"] = it->second;
    agent.put_endpoint(ep);
    return make_result(conf, inv, host_if, mac_str(pod.host.mac), mac_str(pod.pod.mac), net);
  } catch (...) {
    // Leave nothing behind: the endpoint (if the agent made it), the veth, the IPs.
    try {
      agent.delete_endpoint_by_container(inv.container_id);
    } catch (const std::exception&) {
    }
    if (plumbed) node_nl.remove_link(host_if);
    try {
      agent.release_ips(owner_of(inv));
    } catch (const std::exception&) {
    }
    throw;
  }
}

void cmd_del(const NetConf& conf, const Invocation& inv) {
  AgentClient agent(conf.socket_path);
  Netlink node_nl;
  std::string host_if = host_ifname(inv.container_id, inv.ifname);
  // Removing the host end removes the pod end too, even when the pod's
  // namespace is already gone.
  node_nl.remove_link(host_if);
  try {
    agent.delete_endpoint_by_container(inv.container_id);
    agent.release_ips(owner_of(inv));
  } catch (const CniError& e) {
    // An agent that is down reconciles on start: endpoints whose device is
    // gone are dropped and their addresses released. DEL must not block
    // the runtime's teardown on it.
    if (e.code() != kTryAgainLater) throw;
    spdlog::warn("DEL {}: {}; the agent will reconcile on start", inv.container_id, e.what());
  }
}

void cmd_check(const NetConf& conf, const Invocation& inv) {
  AgentClient agent(conf.socket_path);
  auto ep = agent.get_endpoint_by_container(inv.container_id);
  if (!ep) throw CniError(kUnknownContainer, "no endpoint for container " + inv.container_id);
  Netlink node_nl;
  std::string host_if = host_ifname(inv.container_id, inv.ifname);
  if (!node_nl.get_link(host_if)) throw CniError(kCheckFailed, "host interface " + host_if + " is missing");
  auto net = addressing_from_endpoint(*ep, agent.allocate_ips(owner_of(inv)));
  if (auto problem = check_pod(inv.netns, inv.ifname, net); !problem.empty()) throw CniError(kCheckFailed, problem);
}

nlohmann::json cmd_version() {
  return {{"cniVersion", "1.0.0"}, {"supportedVersions", supported_versions()}};
}

void cmd_gc(const NetConf& conf) {
  // CNI 1.1 GC: every attachment not in cni.dev/valid-attachments is stale.
  std::set<std::string> valid;
  if (conf.raw.contains("cni.dev/valid-attachments")) {
    const auto& list = conf.raw["cni.dev/valid-attachments"];
    if (!list.is_array()) throw CniError(kInvalidNetworkConfig, "'cni.dev/valid-attachments' must be an array");
    for (const auto& a : list)
      if (a.contains("containerID") && a["containerID"].is_string()) valid.insert(a["containerID"].get<std::string>());
  }
  AgentClient agent(conf.socket_path);
  Netlink node_nl;
  for (const auto& ep : agent.list_endpoints()) {
    auto cid = ep["container-id"].get<std::string>();
    if (valid.count(cid)) continue;
    Invocation inv{"DEL", cid, "", ep["interface-name"].get<std::string>(), "", {}};
    cmd_del(conf, inv);
  }
}

void cmd_status(const NetConf& conf) {
  AgentClient agent(conf.socket_path);
  if (!agent.healthy()) throw CniError(kPluginNotAvailable, "cilium-agent is not ready at " + conf.socket_path);
}

}  // namespace cpp::cni
