#pragma once
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "bgp/peering_policy.h"
#include "store/yaml.h"

namespace bgp_test {

inline cpp::IpAddr ip(const char* s) { return *cpp::IpAddr::parse(s); }
inline cpp::IpPrefix pfx(const char* s) { return *cpp::IpPrefix::parse(s); }

inline nlohmann::json yaml(const std::string& text) { return cpp::store::parse_yaml_documents(text).at(0); }

inline cpp::bgp::PeeringPolicy parse(const std::string& text) { return cpp::bgp::parse_peering_policy(yaml(text)); }

// The error parse_peering_policy throws, or "" when it accepts the input.
inline std::string parse_error(const std::string& text) {
  try {
    parse(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace bgp_test
