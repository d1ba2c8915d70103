#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/ip.h"
#include "common/mac.h"

namespace cpp::endpoint {

// One pod's attachment to the node, as the agent records and restores it.
struct Endpoint {
  uint16_t id = 0;
  std::string container_id;
  std::string ifname = "eth0";  // inside the pod
  std::string host_ifname;      // lxc... on the node
  int host_ifindex = 0;
  std::string netns;
  MacAddr mac{};       // pod side
  MacAddr host_mac{};  // node side: the pod's router MAC
  std::optional<IpAddr> ipv4;
  std::optional<IpAddr> ipv6;
  std::string k8s_namespace;
  std::string k8s_pod_name;
  // Security labels, source-qualified: "k8s:app" -> "web".
  std::map<std::string, std::string> labels;
  uint32_t identity = 0;  // security identity; assigned by the identity subsystem
  std::string state = "ready";

  nlohmann::json to_json() const;
  // Throws std::invalid_argument naming the bad field.
  static Endpoint from_json(const nlohmann::json& j);
  // The CiliumEndpoint object (cilium.io/v2) the agent publishes for this endpoint.
  nlohmann::json to_cilium_endpoint(const std::string& node_ip) const;
};

// status.named-ports of a CiliumEndpoint from its Pod: every container port
// that has a name, as {name, port, protocol (TCP when unset)}, in the Pod's
// order. Ports without a name or a usable number are left out.
nlohmann::json named_ports_of_pod(const nlohmann::json& pod);

}  // namespace cpp::endpoint
