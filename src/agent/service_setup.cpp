#include "agent/service_setup.h"

#include <sys/socket.h>

#include "common/log.h"
#include "datapath/nat_consts.h"

namespace cpp::agent {
namespace {

// The node's native devices, chosen as masquerading chooses them
// (`devices`, else the default route's device, else the first with a
// global address), whatever masquerading is set to.
std::vector<MasqTarget> native_devices(const config::AgentConfig& cfg, Netlink& nl) {
  std::vector<NativeLink> links;
  for (const auto& l : nl.list_links()) {
    NativeLink n{l.name, l.ifindex, {}};
    for (const auto& p : nl.list_addresses(l.name)) n.addrs.push_back(p.addr);
    links.push_back(std::move(n));
  }
  std::vector<std::string> default_devs;
  for (int family : {AF_INET, AF_INET6})
    for (const auto& r : nl.list_routes(family))
      if (r.dst.len == 0 && !r.dev.empty()) default_devs.push_back(r.dev);
  MasqSettings s{cfg.enable_ipv4, cfg.enable_ipv6, cfg.devices};
  return plan_masquerade(s, links, default_devs).targets;
}

datapath::NatConsts nat_of(const config::AgentConfig& cfg, const MasqTarget& t, bool masquerade) {
  datapath::NatConsts nat;
  nat.ipv4 = t.ipv4;
  nat.ipv6 = t.ipv6;
  nat.native_cidr4 = cfg.ipv4_native_routing_cidr;
  nat.native_cidr6 = cfg.ipv6_native_routing_cidr;
  nat.masquerade_ipv4 = nat.masquerade_ipv6 = masquerade;
  return nat;
}

}  // namespace

datapath::LbConsts lb_consts(const config::AgentConfig& cfg) {
  datapath::LbConsts lb;
  lb.enabled = cfg.kube_proxy_replacement;
  lb.sock = cfg.kube_proxy_replacement && cfg.bpf_lb_sock;
  lb.external_clusterip = cfg.bpf_lb_external_clusterip;
  lb.reject_no_backend = cfg.service_no_backend_reject;
  lb.trace_sock = cfg.trace_sock;
  lb.loopback_ipv4 = cfg.service_loopback_ipv4;
  lb.loopback_ipv6 = cfg.service_loopback_ipv6;
  lb.map_max = cfg.bpf_lb_map_max;
  lb.node_port_min = cfg.node_port_min;
  lb.node_port_max = cfg.node_port_max;
  return lb;
}

LbDatapath setup_lb_datapath(const config::AgentConfig& cfg, const datapath::Loader& loader,
                             const datapath::NodeConsts& node, Netlink& nl, const std::vector<MasqTarget>& masq) {
  LbDatapath out;
  auto natives = native_devices(cfg, nl);
  if (!cfg.kube_proxy_replacement) {
    if (loader.detach_sock_programs()) spdlog::info("socket LB: detached (kube-proxy-replacement is false)");
    for (const auto& t : natives)
      if (datapath::Loader::detach_xdp(t.ifindex)) spdlog::info("XDP: detached from {}", t.name);
    return out;
  }
  for (const auto& t : natives) {
    bool masqueraded = false;
    for (const auto& m : masq) masqueraded = masqueraded || m.ifindex == t.ifindex;
    if (masqueraded) continue;
    loader.load_netdev_programs(node, nat_of(cfg, t, false), t.ifindex);
    out.nodeport_devices.push_back(t.name);
    spdlog::info("kube-proxy replacement: bpf_netdev on {} for NodePort (no masquerading there)", t.name);
  }
  if (cfg.bpf_lb_sock) {
    loader.attach_sock_programs(node, cfg.cgroup_root);
    out.sock_cgroup = cfg.cgroup_root;
  } else if (loader.detach_sock_programs()) {
    spdlog::info("socket LB: detached (bpf-lb-sock is false)");
  }
  if (cfg.bpf_lb_acceleration == "disabled") {
    for (const auto& t : natives)
      if (datapath::Loader::detach_xdp(t.ifindex)) spdlog::info("XDP: detached from {}", t.name);
  } else {
    auto mode = cfg.bpf_lb_acceleration == "native" ? datapath::Loader::XdpMode::Native
                                                     : datapath::Loader::XdpMode::BestEffort;
    for (const auto& t : natives)
      out.xdp.push_back({t.name, loader.attach_xdp(node, nat_of(cfg, t, false), t.ifindex, mode)});
  }
  if (natives.empty()) spdlog::warn("kube-proxy replacement: no native device; NodePort and XDP are not set up");
  return out;
}

std::unique_ptr<ServiceRuntime> start_services(const config::AgentConfig& cfg, store::ResourceStore& store,
                                               const std::vector<IpAddr>& node_addrs) {
  if (!cfg.kube_proxy_replacement) return nullptr;
  auto rt = std::make_unique<ServiceRuntime>();
  rt->maps = std::make_unique<datapath::BpfLbMaps>(cfg.pin_dir());
  ServiceSubsystem::Options o;
  o.node.node_name = cfg.node_name;
  o.node.node_addresses = node_addrs;
  o.node.enable_ipv4 = cfg.enable_ipv4;
  o.node.enable_ipv6 = cfg.enable_ipv6;
  o.node.node_port = true;
  o.node.external_ips = cfg.enable_external_ips;
  o.node.external_cluster_ip = cfg.bpf_lb_external_clusterip;
  o.maglev = cfg.bpf_lb_algorithm == "maglev";
  o.map_max = cfg.bpf_lb_map_max;
  o.state_dir = cfg.state_dir + "/services-api";
  rt->subsystem = std::make_unique<ServiceSubsystem>(store, *rt->maps, o);
  rt->subsystem->start();
  spdlog::info("services: kube-proxy replacement on ({} backend selection), {} frontends programmed",
               cfg.bpf_lb_algorithm, rt->subsystem->status()["frontends"].get<size_t>());
  return rt;
}

nlohmann::json lb_status_json(const config::AgentConfig& cfg, const LbDatapath& dp, const ServiceRuntime* svc) {
  nlohmann::json j{{"enabled", cfg.kube_proxy_replacement}};
  if (!cfg.kube_proxy_replacement) return j;
  j["socket-lb"] = {{"enabled", !dp.sock_cgroup.empty()}, {"cgroup", dp.sock_cgroup}};
  auto xdp = nlohmann::json::array();
  for (const auto& x : dp.xdp) xdp.push_back({{"device", x.device}, {"mode", x.mode}});
  j["acceleration"] = xdp;
  j["algorithm"] = cfg.bpf_lb_algorithm;
  j["no-backend-response"] = cfg.service_no_backend_reject ? "reject" : "drop";
  j["nodeport-devices"] = dp.nodeport_devices;
  if (svc) j["services"] = svc->subsystem->status();
  return j;
}

}  // namespace cpp::agent
