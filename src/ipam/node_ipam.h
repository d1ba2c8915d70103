#pragma once
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "ipam/pool.h"

namespace cpp::ipam {

struct Allocation {
  std::optional<IpAddr> ipv4;
  std::optional<IpAddr> ipv6;
};

// The node's IPv4 and IPv6 pools, persisted to one JSON file after every
// change so a restarted agent never hands out an address twice.
class NodeIpam {
 public:
  NodeIpam(std::optional<IpPrefix> v4, std::optional<IpPrefix> v6, std::string state_file);

  // Loads the state file if present. Records that no longer fit the pools
  // (the PodCIDR changed) are dropped and returned as warnings.
  std::vector<std::string> restore();
  // All-or-nothing: both families or neither. Throws std::runtime_error when
  // a pool is exhausted.
  Allocation allocate(const std::string& owner);
  bool release(const std::string& owner);
  std::optional<Allocation> lookup(const std::string& owner) const;
  std::optional<IpAddr> router_ipv4() const;
  std::optional<IpAddr> router_ipv6() const;
  std::optional<IpPrefix> cidr_ipv4() const;
  std::optional<IpPrefix> cidr_ipv6() const;
  nlohmann::json to_json() const;

 private:
  void persist() const;
  nlohmann::json snapshot() const;  // caller holds mu_
  mutable std::mutex mu_;
  std::optional<Pool> v4_, v6_;
  std::string state_file_;
};

}  // namespace cpp::ipam
