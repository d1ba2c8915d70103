#pragma once
// Kube-proxy replacement wiring of the agent (issue 5): the LB settings
// every program gets, socket LB and XDP on the node, and the service
// subsystem. With kube-proxy-replacement false nothing LB-related is
// attached (and what an earlier run attached is removed).
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/masquerade.h"
#include "agent/service_subsystem.h"
#include "config/agent_config.h"
#include "datapath/consts.h"
#include "datapath/lb_map.h"
#include "datapath/loader.h"
#include "netlink/rtnl.h"
#include "store/store.h"

namespace cpp::agent {

datapath::LbConsts lb_consts(const config::AgentConfig& cfg);

// What setup_lb_datapath attached.
struct LbDatapath {
  std::string sock_cgroup;  // "" = socket LB off
  struct Xdp {
    std::string device, mode;  // mode: "native" | "generic"
  };
  std::vector<Xdp> xdp;
  std::vector<std::string> nodeport_devices;  // bpf_netdev attached for NodePort (besides masquerading)
};

// After setup_masquerade (whose bpf_netdev already carries node.lb): puts
// bpf_netdev on native devices masquerading left out (NodePort needs it),
// socket LB on cgroup-root and XDP per bpf-lb-acceleration; or removes them.
// Throws std::runtime_error / std::invalid_argument naming what failed.
LbDatapath setup_lb_datapath(const config::AgentConfig& cfg, const datapath::Loader& loader,
                             const datapath::NodeConsts& node, Netlink& nl, const std::vector<MasqTarget>& masq);

struct ServiceRuntime {
  std::unique_ptr<datapath::BpfLbMaps> maps;
  std::unique_ptr<ServiceSubsystem> subsystem;
};
// Null when kube-proxy replacement is off. node_addrs: NodePort frontends.
std::unique_ptr<ServiceRuntime> start_services(const config::AgentConfig& cfg, store::ResourceStore& store,
                                               const std::vector<IpAddr>& node_addrs);

// `kube-proxy-replacement` in /v1/status.
nlohmann::json lb_status_json(const config::AgentConfig& cfg, const LbDatapath& dp, const ServiceRuntime* svc);

}  // namespace cpp::agent
