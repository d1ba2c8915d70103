#include "agent/daemon.h"

#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include "agent/api_routes.h"
#include "agent/bpf_endpoint_datapath.h"
#include "agent/cep_publisher.h"
#include "agent/cni_conf.h"
#include "agent/health_endpoint.h"
#include "agent/health_server.h"
#include "agent/host_devices.h"
#include "agent/identity_select.h"
#include "agent/node_taints.h"
#include "agent/map_views.h"
#include "agent/masquerade.h"
#include "agent/node_registration.h"
#include "agent/overlay_subsystem.h"
#include "agent/vxlan_device.h"
#include "api/unix_http.h"
#include "common/files.h"
#include "common/log.h"
#include "common/version.h"
#include "datapath/endpoint_map.h"
#include "datapath/loader.h"
#include "endpoint/manager.h"
#include "identity/identity.h"
#include "agent/policy_subsystem.h"
#include "agent/service_setup.h"
#include "agent/bgp_subsystem.h"
#include "agent/metrics_bgp.h"
#include "agent/hubble_enricher.h"
#include "agent/hubble_subsystem.h"
#include "agent/metrics_setup.h"
#include "hubble/flow.h"
#include "agent/store_select.h"
#include "ipam/node_ipam.h"
#include "store/store.h"

namespace cpp::agent {
namespace {

constexpr int kHealthPort = 9879;
// The upstream release whose interfaces (config, API, Hubble) ciliumpp
// follows (the seed runs 1.15.3).

datapath::NodeConsts node_consts(const config::AgentConfig& cfg, const ipam::NodeIpam& ipam) {
  datapath::NodeConsts n;
  n.enable_ipv4 = cfg.enable_ipv4;
  n.enable_ipv6 = cfg.enable_ipv6;
  n.router_ipv4 = ipam.router_ipv4();
  n.router_ipv6 = ipam.router_ipv6();
  n.monitor_aggregation = datapath::parse_monitor_aggregation(cfg.monitor_aggregation);
  return n;
}

void publish_router_ips(const datapath::EndpointMap& map, const ipam::NodeIpam& ipam, const LinkInfo& host) {
  cpp_endpoint_info info{};
  info.ifindex = static_cast<__u32>(host.ifindex);
  info.flags = CPP_EP_F_HOST;
  info.sec_id = CPP_ID_HOST;
  std::memcpy(info.mac, host.mac.data(), 6);
  std::memcpy(info.node_mac, host.mac.data(), 6);
  for (const auto& r : {ipam.router_ipv4(), ipam.router_ipv6()})
    if (r) map.upsert(*r, info);
}

// Global addresses of the node's own devices (not pods, not cilium_*).
std::vector<IpAddr> underlay_addresses(Netlink& nl) {
  std::vector<IpAddr> out;
  for (const auto& l : nl.list_links()) {
    if (l.name == "lo" || l.name.rfind("lxc", 0) == 0 || l.name.rfind("cilium_", 0) == 0) continue;
    for (const auto& a : nl.list_addresses(l.name))
      if (!(a.addr.v6 && a.addr.bytes[0] == 0xfe && (a.addr.bytes[1] & 0xc0) == 0x80)) out.push_back(a.addr);
  }
  return out;
}

std::string first_underlay_ip(Netlink& nl) {
  for (const auto& a : underlay_addresses(nl))
    if (!a.v6) return a.str();
  return "";
}

}  // namespace

int run_daemon(const config::AgentConfig& cfg, const std::atomic<bool>& stop) {
  std::atomic<bool> ready{false};
  make_dirs(cfg.state_dir);
  make_dirs(std::filesystem::path(cfg.socket_path).parent_path().string());

  auto backend = make_resource_store(cfg);
  if (!backend.wait_until_reachable(stop)) return 0;
  store::ResourceStore& store = *backend.store;

  Netlink nl;
  // The node's CiliumNode (other nodes' overlay and health read it). With
  // cluster-pool IPAM the PodCIDRs come from the operator through it (or
  // from the IPAM state on a restart).
  std::optional<IpAddr> underlay_v4, underlay_v6;
  for (const auto& a : underlay_addresses(nl)) {
    auto& slot = a.v6 ? underlay_v6 : underlay_v4;
    if (!slot) slot = a;
  }
  auto registration = std::make_unique<NodeRegistration>(store, cfg.node_name, underlay_v4, underlay_v6);
  if (backend.kube) registration->set_owned_by_node();
  auto pod_cidrs = resolve_pod_cidrs(cfg, *registration, cfg.state_dir + "/ipam.json", stop);
  if (!pod_cidrs) return 0;  // stopped while waiting for the operator
  ipam::NodeIpam ipam(pod_cidrs->ipv4, pod_cidrs->ipv6, cfg.state_dir + "/ipam.json");
  for (const auto& w : ipam.restore()) spdlog::warn("{}", w);

  datapath::Loader loader(cfg.pin_dir());
  loader.ensure_maps(lb_consts(cfg));
  datapath::EndpointMap endpoint_map(cfg.pin_dir());

  int mtu = derive_pod_mtu(nl, cfg.mtu, cfg.routing_mode == "tunnel");
  HostAddressing host_addr{ipam.router_ipv4(), ipam.router_ipv6(), ipam.cidr_ipv4(), ipam.cidr_ipv6(), mtu};
  LinkInfo host = ensure_host_devices(nl, host_addr);
  auto consts = node_consts(cfg, ipam);
  consts.lb = lb_consts(cfg);
  const bool tunnel = cfg.routing_mode == "tunnel";
  if (tunnel) consts.encap_ifindex = ensure_vxlan_device(nl).ifindex;
  loader.load_host_program(consts, host.ifindex);
  if (tunnel) loader.load_overlay_program(consts, consts.encap_ifindex);
  publish_router_ips(endpoint_map, ipam, host);
  registration->set_router_ips(ipam.router_ipv4(), ipam.router_ipv6());
  registration->start();
  auto masquerading = setup_masquerade(cfg, loader, consts, nl);
  auto lb_datapath = setup_lb_datapath(cfg, loader, consts, nl, masquerading);
  std::string node_ip = first_underlay_ip(nl);
  spdlog::info("datapath loaded: cilium_host ifindex {}, pod MTU {}, pins in {}", host.ifindex, mtu, cfg.pin_dir());

  auto identity_allocator = make_identity_allocator(cfg, backend.etcd.get(), backend.kube ? backend.store.get() : nullptr);
  auto& identities = *identity_allocator;
  IpcacheWriter ipcache(cfg.pin_dir());
  // Before the policy subsystem, which reports to it until it is destroyed.
  CepPublisher ceps(store, node_ip, backend.kube != nullptr);
  PolicySubsystem policy(cfg, store, identities, cfg.pin_dir(), ipcache);
  policy.set_enforcement_observer(
      [&ceps](uint16_t ep_id, bool ingress, bool egress) { ceps.enforcement_changed(ep_id, ingress, egress); });
  policy.start();
  std::vector<IpAddr> host_addrs;
  for (const auto& r : {ipam.router_ipv4(), ipam.router_ipv6()})
    if (r) host_addrs.push_back(*r);
  for (const auto& a : underlay_addresses(nl)) host_addrs.push_back(a);
  policy.set_host_addresses(host_addrs);

  std::optional<OverlaySubsystem> overlay;
  if (tunnel) {
    OverlaySubsystem::Options o;
    o.self.node_name = cfg.node_name;
    for (const auto& a : underlay_addresses(nl)) o.self.node_ips.insert(a);
    for (const auto& c : {ipam.cidr_ipv4(), ipam.cidr_ipv6()})
      if (c) o.self.pod_cidrs.push_back(*c);
    o.router4 = ipam.router_ipv4();
    o.router6 = ipam.router_ipv6();
    o.mtu = mtu;
    overlay.emplace(store, ipcache, nl, std::move(o));
    overlay->start();
  }

  auto services = start_services(cfg, store, underlay_addresses(nl));

  BpfEndpointDatapath dp(loader, consts, nl, policy);
  endpoint::Manager endpoints(cfg.state_dir, dp, [&](const endpoint::Endpoint& ep, bool deleted) {
    ceps.endpoint_changed(ep, deleted);
  });
  auto restored = endpoints.restore();
  for (const auto& w : restored.warnings) spdlog::warn("{}", w);
  for (const auto& ep : restored.dropped) {
    ipam.release(ep.container_id + ":" + ep.ifname);
    ceps.endpoint_changed(ep, true);
    spdlog::info("endpoint {} dropped: device {} is gone", ep.id, ep.host_ifname);
  }
  spdlog::info("restored {} endpoints, dropped {}", restored.restored.size(), restored.dropped.size());
  HealthSubsystem node_health({cfg, nl, ipam, endpoints, store, underlay_addresses(nl), mtu});
  node_health.start();
  if (registration) registration->set_health_addresses(node_health.endpoint_ipv4(), node_health.endpoint_ipv6());

  // Readiness (upstream: the kvstore is part of the agent's health): the
  // datapath keeps serving existing endpoints while etcd is away, but the
  // agent reports not-ready until some member answers again.
  auto not_ready = [&]() -> std::optional<std::string> {
    if (!ready) return "datapath not loaded";
    return backend.not_ready_reason();
  };

  AgentMetricsRuntime agent_metrics({cfg, endpoints, identities, policy, cpp::kVersion,
                                     [](uint8_t r) { return std::string(hubble::drop_reason_text(r)); }});
  agent_metrics.start();

  // Hubble: the datapath's events become flows, named from the agent's state.
  HubbleEnricher enricher(cfg.node_name, endpoints, identities, policy, store,
                          services ? services->subsystem.get() : nullptr);
  std::unique_ptr<HubbleSubsystem> hubble;
  if (cfg.enable_hubble) {
    enricher.start();
    HubbleSubsystem::Options ho{cfg.node_name,         cpp::kVersion,          cfg.pin_dir(),
                                cfg.hubble_listen_address, cfg.hubble_socket_path, cfg.hubble_event_buffer_capacity};
    if (!cfg.hubble_disable_tls && !cfg.hubble_listen_address.empty()) {
      ho.tls_cert_file = cfg.hubble_tls_cert_file;
      ho.tls_key_file = cfg.hubble_tls_key_file;
      ho.tls_client_ca_file = cfg.hubble_tls_client_ca_file;
    }
    auto& m = agent_metrics.metrics();
    hubble = std::make_unique<HubbleSubsystem>(std::move(ho), enricher, [&m](const hubble::Flow& f) {
      m.flow_processed(f.event_type, f.event_sub_type, static_cast<uint8_t>(f.verdict));
    });
    hubble->set_lost_events_observer([&m](uint64_t delta) { m.lost_events(kLostPerfRingBuffer, delta); });
    hubble->start();
  }

  // BGP: graceful restart's R bit when the agent ran on this node before.
  std::unique_ptr<BgpSubsystem> bgp;
  if (cfg.enable_bgp_control_plane) {
    BgpSubsystem::Options bo;
    bo.node_name = cfg.node_name;
    for (const auto& c : {ipam.cidr_ipv4(), ipam.cidr_ipv6()})
      if (c) bo.pod_cidrs.push_back(*c);
    bo.node_ipv4 = underlay_v4;
    bo.node_ipv6 = underlay_v6;
    bo.secrets_namespace = cfg.bgp_secrets_namespace;
    const std::string marker = cfg.state_dir + "/bgp-speaker-ran";
    bo.restarting = std::filesystem::exists(marker);
    write_file_atomic(marker, "");
    bgp = std::make_unique<BgpSubsystem>(store, std::move(bo));
    bgp->start();
    agent_metrics.registry().add_collector([b = bgp.get()] { return bgp_families(b->peers(), b->advertised()); });
  }

  ApiContext ctx{
      endpoints,
      ipam,
      [&] { return ready.load(); },
      [&] {
        nlohmann::json s{{"node-name", cfg.node_name},
                         {"cluster-name", cfg.cluster_name},
                         {"state", !ready ? "Initializing" : not_ready() ? "Degraded" : "Ok"},
                         {"endpoints", endpoints.list().size()},
                         {"pin-dir", cfg.pin_dir()},
                         {"state-dir", cfg.state_dir},
                         {"mtu", mtu},
                         {"node-ip", node_ip},
                         {"routing-mode", cfg.routing_mode},
                         {"policy-revision", policy.realized_revision()}};
        if (auto r = ipam.router_ipv4()) s["router-ipv4"] = r->str();
        if (auto r = ipam.router_ipv6()) s["router-ipv6"] = r->str();
        if (auto c = ipam.cidr_ipv4()) s["pod-cidr-ipv4"] = c->str();
        if (auto c = ipam.cidr_ipv6()) s["pod-cidr-ipv6"] = c->str();
        s["ipam"] = ipam.to_json();
        s["masquerading"] = masq_to_json(masquerading);
        s["kube-proxy-replacement"] = lb_status_json(cfg, lb_datapath, services.get());
        s["kvstore"] = backend.status();
        if (backend.kube) s["kubernetes"] = backend.kubernetes_status();
        s["hubble"] = hubble ? hubble->status() : nlohmann::json{{"enabled", false}};
        s["hubble"]["monitor-aggregation"] = cfg.monitor_aggregation;
        if (!cfg.prometheus_serve_addr.empty())
          s["hubble"]["metrics"] = {{"state", "Ok"}, {"address", cfg.prometheus_serve_addr}};
        return s;
      },
      [&] { return nlohmann::json(cfg.raw.values); },
      [&] { return list_maps(cfg.pin_dir()); },
      [&](const std::string& name) { return dump_map(cfg.pin_dir(), name); },
      [&](endpoint::Endpoint& ep) { policy.resolve_identity(ep); },
      mtu,
      &policy,
      services ? services->subsystem.get() : nullptr,
      bgp.get(),
  };
  api::UnixHttpServer api_server(
      cfg.socket_path, agent_metrics.metrics().instrument_api(with_health_routes(make_api_handler(ctx), node_health)));
  api_server.start();
  HealthServer health("127.0.0.1", kHealthPort, not_ready);
  health.start();

  ready = true;
  if (!cfg.cni_conf_path.empty())
    write_cni_conflist(cfg.cni_conf_path, make_cni_conflist(cfg.socket_path, cfg.cni_log_file));
  spdlog::info("agent ready: API on {}, health on 127.0.0.1:{}", cfg.socket_path, kHealthPort);

  // The Node's taint goes once the agent is ready (retried while the store fails).
  bool untainted = !cfg.remove_cilium_node_taints;
  auto next_untaint = std::chrono::steady_clock::now();
  while (!stop) {
    if (!untainted && std::chrono::steady_clock::now() >= next_untaint && !not_ready()) {
      untainted = remove_agent_not_ready_taint(store, cfg.node_name);
      next_untaint = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  spdlog::info("shutting down; datapath stays in place");
  ready = false;
  api_server.stop();
  if (bgp) bgp->stop();
  if (hubble) hubble->stop();
  enricher.stop();
  agent_metrics.stop();
  health.stop();
  node_health.stop();
  if (services) services->subsystem->stop();
  if (overlay) overlay->stop();
  policy.stop();
  registration->stop();
  return 0;
}

}  // namespace cpp::agent
