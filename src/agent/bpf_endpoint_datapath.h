#pragma once
#include "datapath/consts.h"
#include "datapath/endpoint_map.h"
#include "datapath/loader.h"
#include "endpoint/manager.h"
#include "netlink/rtnl.h"
#include "agent/policy_subsystem.h"

namespace cpp::agent {

// EndpointDatapath over the real kernel: one bpf_lxc per endpoint with its
// constants baked in at load, its addresses in the endpoint map, and its
// policy (entries, enforcement flags, ipcache) through the policy subsystem.
class BpfEndpointDatapath : public endpoint::EndpointDatapath {
 public:
  BpfEndpointDatapath(datapath::Loader& loader, datapath::NodeConsts node, Netlink& nl, PolicySubsystem& policy)
      : loader_(loader), node_(std::move(node)), nl_(nl), policy_(policy), map_(loader.pin_dir()) {}

  void attach(const endpoint::Endpoint& ep) override;
  void detach(const endpoint::Endpoint& ep) override;
  bool link_exists(const endpoint::Endpoint& ep) override;
  void prune(const std::vector<endpoint::Endpoint>& live) override;

 private:
  datapath::Loader& loader_;
  datapath::NodeConsts node_;
  Netlink& nl_;
  PolicySubsystem& policy_;
  datapath::EndpointMap map_;
};

}  // namespace cpp::agent
