#pragma once
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "api/unix_http.h"
#include "endpoint/manager.h"
#include "ipam/node_ipam.h"
#include "agent/policy_subsystem.h"
#include "agent/bgp_subsystem.h"
#include "agent/service_subsystem.h"

namespace cpp::agent {

// What the API handlers need from the rest of the agent.
struct ApiContext {
  endpoint::Manager& endpoints;
  ipam::NodeIpam& ipam;
  std::function<bool()> ready;
  std::function<nlohmann::json()> status;
  std::function<nlohmann::json()> config;
  std::function<nlohmann::json()> list_maps;
  // nullopt when no map of that name exists.
  std::function<std::optional<nlohmann::json>(const std::string&)> dump_map;
  // Sets labels and identity (from the Pod object, if the store has one) before the endpoint is created.
  std::function<void(endpoint::Endpoint&)> enrich_endpoint;
  int mtu;
  PolicySubsystem* policy = nullptr;
  ServiceSubsystem* services = nullptr;  // null: kube-proxy replacement off
  const BgpSubsystem* bgp = nullptr;     // null: BGP control plane off
};

api::UnixHttpServer::Handler make_api_handler(ApiContext ctx);

}  // namespace cpp::agent
