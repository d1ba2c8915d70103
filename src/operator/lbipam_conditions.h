#pragma once
// metav1.Condition lists as LB IPAM writes them on Services and
// CiliumLoadBalancerIPPools: one entry per type, lastTransitionTime moves
// only when the status does. Writing the same condition again yields an
// equal list, so the controller's own writes (which its watch sees) settle
// instead of looping.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "service/lbipam.h"

namespace cpp::op {

using service::lbipam::Condition;

// conditions (an array or null) with c set. observed_generation < 0 leaves
// the field out. now: RFC 3339 time used when the status changed.
nlohmann::json with_condition(const nlohmann::json& conditions, const Condition& c, int64_t observed_generation,
                              const std::string& now);

// conditions without any entry of type.
nlohmann::json without_condition(const nlohmann::json& conditions, const std::string& type);

// The entry of type, or nullptr.
const nlohmann::json* find_condition(const nlohmann::json& conditions, const std::string& type);

// Current UTC time, RFC 3339 with seconds ("2026-11-26T19:40:00Z").
std::string rfc3339_now();

}  // namespace cpp::op
