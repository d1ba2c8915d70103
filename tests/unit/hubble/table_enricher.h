#pragma once
// An Enricher over plain tables, for tests: what the agent would know.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>

#include "hubble/enricher.h"

namespace cpp::hubble::test {

class TableEnricher : public Enricher {
 public:
  std::map<IpAddr, std::shared_ptr<const EndpointInfo>> by_ip;
  std::map<uint32_t, std::vector<std::string>> identity_labels;
  std::map<uint32_t, std::shared_ptr<const PolicyRef>> policies;
  std::map<std::tuple<IpAddr, uint16_t, uint8_t>, ServiceRef> services;
  std::map<uint32_t, std::string> ifnames;
  std::map<std::pair<uint64_t, bool>, NetnsEndpoint> netns;  // {cookie, ipv6}
  std::string node = "node-1";
  // What the parser asked for, to check which endpoint ID it passed.
  mutable std::vector<std::pair<IpAddr, uint16_t>> endpoint_calls;

  std::shared_ptr<const EndpointInfo> endpoint(const IpAddr& addr, uint16_t ep_id, uint32_t identity) const override {
    endpoint_calls.emplace_back(addr, ep_id);
    if (auto it = by_ip.find(addr); it != by_ip.end()) return it->second;
    auto e = std::make_shared<EndpointInfo>();
    e->identity = identity;
    if (auto it = identity_labels.find(identity); it != identity_labels.end()) e->labels = it->second;
    return e;
  }
  std::shared_ptr<const PolicyRef> policy(uint32_t cookie) const override {
    auto it = policies.find(cookie);
    return it == policies.end() ? nullptr : it->second;
  }
  std::optional<ServiceRef> service(const IpAddr& addr, uint16_t port, uint8_t protocol) const override {
    auto it = services.find({addr, port, protocol});
    if (it == services.end()) return std::nullopt;
    return it->second;
  }
  std::string interface_name(uint32_t ifindex) const override {
    auto it = ifnames.find(ifindex);
    return it == ifnames.end() ? "" : it->second;
  }
  std::string node_name() const override { return node; }
  std::optional<NetnsEndpoint> endpoint_by_netns(uint64_t cookie, bool ipv6) const override {
    auto it = netns.find({cookie, ipv6});
    if (it == netns.end()) return std::nullopt;
    return it->second;
  }
};

inline IpAddr ip(const std::string& s) { return *IpAddr::parse(s); }

}  // namespace cpp::hubble::test
