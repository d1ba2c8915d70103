#pragma once
// The BGP speaker: sessions with configured neighbors and the routes each
// virtual router advertises. The control plane (bgp/peering_policy.h)
// computes the desired state from CiliumBGPPeeringPolicy objects and calls
// apply(); the speaker reconciles: new neighbors connect, removed ones get a
// Cease NOTIFICATION, changed ones restart, route changes become UPDATEs
// (announcements and withdrawals) to every established peer of the router.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bgp/message.h"
#include "common/ip.h"

namespace cpp::bgp {

struct NeighborConfig {
  IpAddr peer_address;
  uint16_t peer_port = 179;
  uint32_t peer_asn = 0;
  uint16_t hold_time_s = 90;        // 0 or >= 3 (checked by the control plane)
  uint16_t keepalive_s = 30;
  uint16_t connect_retry_s = 120;
  bool passive = false;             // wait for the peer to connect
  uint8_t ebgp_multihop_ttl = 1;    // IP TTL of the session's packets (eBGP)
  std::string md5_password;         // TCP MD5 (RFC 2385); empty = none
  bool graceful_restart = false;
  uint16_t restart_time_s = 120;
  std::vector<Family> families{{Afi::IPv4, Safi::Unicast}, {Afi::IPv6, Safi::Unicast}};
  // true: a peer lacking one of `families` is refused (Unsupported
  // Capability); false: the session runs the families both sides offer.
  bool families_required = true;
  std::optional<IpAddr> local_address;  // bind before connecting; else the kernel's choice
  bool operator==(const NeighborConfig&) const = default;
};

// One advertised route. Without a next hop the session's local address of
// the route's family is used (an IPv6 route over an IPv4 session needs one:
// RFC 2545 global next hop).
struct Route {
  IpPrefix prefix;
  std::optional<IpAddr> next_hop;
  bool operator==(const Route&) const = default;
  auto operator<=>(const Route&) const = default;
};

struct VirtualRouter {
  uint32_t local_asn = 0;
  std::vector<NeighborConfig> neighbors;
  std::vector<Route> routes;
  bool operator==(const VirtualRouter&) const = default;
};

struct SpeakerConfig {
  uint32_t router_id = 0;      // host order; must be non-zero
  int listen_port = -1;        // -1: no listener (as upstream's BGP control plane); 0: any port
  std::vector<VirtualRouter> routers;  // distinct local ASNs
};

enum class SessionState { Idle, Connect, Active, OpenSent, OpenConfirm, Established };
// Upstream's (GoBGP's) lower-case names: "idle", ..., "established".
// Inline so that the pure libraries (status formatting) need not link the
// speaker.
inline const char* to_string(SessionState s) {
  switch (s) {
    case SessionState::Idle: return "idle";
    case SessionState::Connect: return "connect";
    case SessionState::Active: return "active";
    case SessionState::OpenSent: return "opensent";
    case SessionState::OpenConfirm: return "openconfirm";
    case SessionState::Established: return "established";
  }
  return "unknown";
}

struct PeerStatus {
  uint32_t local_asn = 0;
  IpAddr peer_address;
  uint32_t peer_asn = 0;
  SessionState state = SessionState::Idle;
  std::chrono::seconds uptime{0};           // in Established
  std::vector<Family> families;             // negotiated
  uint16_t hold_time_s = 0, keepalive_s = 0;  // negotiated
  bool graceful_restart = false;            // negotiated
  size_t advertised = 0, received = 0;      // routes, all families
  std::map<Family, size_t> received_by_family;
  // Received routes kept from before the peer's graceful restart (RFC 4724
  // helper) that it has not announced again yet; included in received.
  size_t stale = 0;
  std::string last_error;                   // last NOTIFICATION sent/received or socket error
};

struct RouteStatus {
  uint32_t local_asn = 0;
  IpAddr peer_address;  // for advertised routes; unset in available()
  Route route;
};

class Speaker {
 public:
  virtual ~Speaker() = default;
  // Replaces the desired state. Throws std::invalid_argument (nothing
  // changes) for an invalid configuration: router_id 0, duplicate local ASNs,
  // a neighbor in two routers, hold time 1 or 2, a listener that cannot bind.
  virtual void apply(const SpeakerConfig& cfg) = 0;
  virtual std::vector<PeerStatus> peers() const = 0;
  virtual std::vector<RouteStatus> advertised() const = 0;  // per established peer
  virtual std::vector<RouteStatus> available() const = 0;   // what each router would advertise
  // Graceful shutdown of every session (Cease / Admin Shutdown), or — with
  // graceful restart negotiated and keep_routes — just closing the sockets,
  // so peers keep the routes for the restart time.
  virtual void stop(bool keep_routes = false) = 0;
};

// The real speaker: one thread with an event loop (epoll), sockets with
// TCP_MD5SIG and IP_TTL as configured. restarting: this process replaces one
// that stopped with stop(keep_routes=true); the OPENs of the first apply()'s
// sessions with graceful restart carry the Restart State (R) and Forwarding
// State (F) bits (RFC 4724).
std::unique_ptr<Speaker> make_speaker(bool restarting = false);

}  // namespace cpp::bgp
