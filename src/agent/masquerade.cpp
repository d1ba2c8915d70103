#include "agent/masquerade.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include "datapath/nat_consts.h"

namespace cpp::agent {
namespace {

bool is_link_local(const IpAddr& a) { return a.v6 && a.bytes[0] == 0xfe && (a.bytes[1] & 0xc0) == 0x80; }

// Devices that are never native: loopback and ciliumpp's own.
bool is_ours(const std::string& name) {
  return name == "lo" || name.rfind("lxc", 0) == 0 || name.rfind("cilium_", 0) == 0;
}

std::optional<IpAddr> first_of(const NativeLink& l, bool v6) {
  for (const auto& a : l.addrs)
    if (a.v6 == v6 && !is_link_local(a)) return a;
  return std::nullopt;
}

std::optional<MasqTarget> target_of(const MasqSettings& s, const NativeLink& l, MasqPlan& plan) {
  MasqTarget t{l.name, l.ifindex, std::nullopt, std::nullopt};
  if (s.ipv4) {
    t.ipv4 = first_of(l, false);
    if (!t.ipv4) plan.warnings.push_back("masquerade: device " + l.name + " has no global IPv4 address; IPv4 is not masqueraded there");
  }
  if (s.ipv6) {
    t.ipv6 = first_of(l, true);
    if (!t.ipv6) plan.warnings.push_back("masquerade: device " + l.name + " has no global IPv6 address; IPv6 is not masqueraded there");
  }
  if (!t.ipv4 && !t.ipv6) return std::nullopt;
  return t;
}

}  // namespace

MasqSettings masq_settings(const config::AgentConfig& cfg) {
  MasqSettings s;
  s.ipv4 = cfg.enable_ipv4 && cfg.enable_ipv4_masquerade && cfg.enable_bpf_masquerade;
  s.ipv6 = cfg.enable_ipv6 && cfg.enable_ipv6_masquerade && cfg.enable_bpf_masquerade;
  s.devices = cfg.devices;
  return s;
}

MasqPlan plan_masquerade(const MasqSettings& s, const std::vector<NativeLink>& links,
                         const std::vector<std::string>& default_route_devs) {
  MasqPlan plan;
  if (!s.ipv4 && !s.ipv6) return plan;
  auto find = [&](const std::string& name) -> const NativeLink* {
    for (const auto& l : links)
      if (l.name == name) return &l;
    return nullptr;
  };
  if (!s.devices.empty()) {
    for (const auto& name : s.devices) {
      const NativeLink* l = find(name);
      if (!l) {
        plan.warnings.push_back("masquerade: device " + name + " (config key 'devices') does not exist");
        continue;
      }
      if (auto t = target_of(s, *l, plan)) plan.targets.push_back(*t);
    }
    return plan;
  }
  const NativeLink* chosen = nullptr;
  for (const auto& name : default_route_devs)
    if (!chosen && !is_ours(name)) chosen = find(name);
  for (const auto& l : links)
    if (!chosen && !is_ours(l.name) && (first_of(l, false) || first_of(l, true))) chosen = &l;
  if (!chosen) {
    plan.warnings.push_back("masquerade: no native device with a global address; pods' traffic to the world is not masqueraded");
    return plan;
  }
  if (auto t = target_of(s, *chosen, plan)) plan.targets.push_back(*t);
  return plan;
}

nlohmann::json masq_to_json(const std::vector<MasqTarget>& targets) {
  auto out = nlohmann::json::array();
  for (const auto& t : targets) {
    nlohmann::json j{{"device", t.name}};
    if (t.ipv4) j["ipv4"] = t.ipv4->str();
    if (t.ipv6) j["ipv6"] = t.ipv6->str();
    out.push_back(j);
  }
  return out;
}

std::vector<MasqTarget> setup_masquerade(const config::AgentConfig& cfg, const datapath::Loader& loader,
                                         const datapath::NodeConsts& node, Netlink& nl) {
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

  MasqSettings s = masq_settings(cfg);
  if (!cfg.enable_bpf_masquerade && (cfg.enable_ipv4_masquerade || cfg.enable_ipv6_masquerade))
    spdlog::warn("masquerade: enable-bpf-masquerade is false and ciliumpp has no iptables masquerading: "
                 "pods' traffic to the world leaves with the pods' own addresses");
  MasqPlan plan = plan_masquerade(s, links, default_devs);
  for (const auto& w : plan.warnings) spdlog::warn("{}", w);

  if (plan.targets.empty()) {
    // Off now: programs a previous run attached must not keep translating.
    MasqSettings any{true, true, cfg.devices};
    for (const auto& t : plan_masquerade(any, links, default_devs).targets)
      datapath::Loader::detach_netdev(t.ifindex);
    return {};
  }
  // With kube-proxy replacement the device's addresses of both families
  // are NodePort's SNAT addresses too, masqueraded or not.
  MasqPlan addressing;
  if (cfg.kube_proxy_replacement)
    addressing = plan_masquerade({cfg.enable_ipv4, cfg.enable_ipv6, cfg.devices}, links, default_devs);
  for (const auto& t : plan.targets) {
    datapath::NatConsts nat;
    nat.ipv4 = t.ipv4;
    nat.ipv6 = t.ipv6;
    nat.masquerade_ipv4 = t.ipv4.has_value();
    nat.masquerade_ipv6 = t.ipv6.has_value();
    for (const auto& a : addressing.targets)
      if (a.ifindex == t.ifindex) {
        if (!nat.ipv4) nat.ipv4 = a.ipv4;
        if (!nat.ipv6) nat.ipv6 = a.ipv6;
      }
    nat.native_cidr4 = cfg.ipv4_native_routing_cidr;
    nat.native_cidr6 = cfg.ipv6_native_routing_cidr;
    loader.load_netdev_programs(node, nat, t.ifindex);
    spdlog::info("masquerade: {} (ifindex {}) SNATs pods' world traffic to {}{}{}", t.name, t.ifindex,
                 t.ipv4 ? t.ipv4->str() : "", t.ipv4 && t.ipv6 ? " and " : "", t.ipv6 ? t.ipv6->str() : "");
  }
  return plan.targets;
}

}  // namespace cpp::agent
