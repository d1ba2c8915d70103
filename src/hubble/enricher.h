#pragma once
// What the flow parser asks the agent about the addresses of an event. The
// agent implements it over its endpoint, identity, ipcache, policy and
// service state (agent/hubble_enricher.h); tests use a table.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/ip.h"
#include "hubble/flow.h"

namespace cpp::hubble {

// A local endpoint found by its network namespace: the client of a socket
// the socket LB translated (trace-sock events name the namespace, not an
// address).
struct NetnsEndpoint {
  uint16_t ep_id = 0;
  uint32_t identity = 0;
  IpAddr addr;  // of the family asked for
};

class Enricher {
 public:
  virtual ~Enricher() = default;
  // One side of a flow. ep_id is the local endpoint the address belongs to
  // (0 if the datapath did not name one); identity is what the datapath
  // resolved (0 if it did not). Never null: an unknown address gets an
  // EndpointInfo with only the identity (and its labels, if known).
  virtual std::shared_ptr<const EndpointInfo> endpoint(const IpAddr& addr, uint16_t ep_id,
                                                       uint32_t identity) const = 0;
  // The policy rule a datapath cookie names; null for 0 or unknown cookies.
  virtual std::shared_ptr<const PolicyRef> policy(uint32_t cookie) const = 0;
  // The service a frontend (address, port in host order, IPPROTO_*) belongs to.
  virtual std::optional<ServiceRef> service(const IpAddr& addr, uint16_t port, uint8_t protocol) const = 0;
  virtual std::string interface_name(uint32_t ifindex) const = 0;
  // The local endpoint whose network namespace has this cookie
  // (bpf_get_netns_cookie, SO_NETNS_COOKIE) and an address of it (IPv6 if
  // ipv6); nullopt when none does (the node's own namespace, a pod gone).
  virtual std::optional<NetnsEndpoint> endpoint_by_netns(uint64_t /*cookie*/, bool /*ipv6*/) const {
    return std::nullopt;
  }
  virtual std::string node_name() const = 0;
};

}  // namespace cpp::hubble
