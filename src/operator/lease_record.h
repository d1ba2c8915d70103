#pragma once
// The pure part of leader election over a coordination.k8s.io/v1 Lease
// (client-go's leaderelection semantics): reading and writing the Lease's
// spec and deciding, from the stored Lease and the time, whether a
// candidate takes it, renews it or waits.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace cpp::op {

using WallClock = std::chrono::system_clock;

// Upstream's lock: kube-system/cilium-operator-resource-lock.
inline constexpr const char* kLeaseNamespace = "kube-system";
inline constexpr const char* kLeaseName = "cilium-operator-resource-lock";

struct LeaseSpec {
  std::string holder;  // holderIdentity; "" = vacant (the last holder resigned)
  int64_t duration_seconds = 0;
  std::optional<WallClock::time_point> acquire_time, renew_time;
  int64_t transitions = 0;
};

enum class LeaseAction {
  Take,   // absent, vacant or expired: become the holder
  Renew,  // we hold it: push renewTime forward
  Wait,   // someone else holds a live lease
};
const char* to_string(LeaseAction a);

// Kubernetes MicroTime: RFC 3339 with microseconds ("2026-11-27T03:04:05.123456Z").
std::string format_micro_time(WallClock::time_point t);
// Accepts any RFC 3339 time (fraction optional, Z or +hh:mm); nullopt when it is not one.
std::optional<WallClock::time_point> parse_micro_time(const std::string& s);

// The spec of a stored Lease object. Fields that are missing or malformed
// read as absent (a malformed renewTime makes the lease expired: nobody can
// prove it is alive).
LeaseSpec read_lease(const nlohmann::json& lease);

// A holder whose renewTime + leaseDurationSeconds lies in the past is gone.
bool lease_expired(const LeaseSpec& s, WallClock::time_point now);

LeaseAction decide(const std::optional<nlohmann::json>& lease, WallClock::time_point now, const std::string& holder);

// Writes `holder` as the holder of lease (a Lease object) at `now`: a new
// holder gets acquireTime and leaseTransitions + 1, the same holder only a
// new renewTime and duration.
void hold_lease(nlohmann::json& lease, const std::string& holder, WallClock::time_point now,
                std::chrono::seconds duration);
// Clears holderIdentity when `holder` holds it (resign); false when it does not.
bool release_lease(nlohmann::json& lease, const std::string& holder);

// An empty Lease object (metadata only) for the operator's lock.
nlohmann::json empty_lease(const std::string& ns = kLeaseNamespace, const std::string& name = kLeaseName);

}  // namespace cpp::op
