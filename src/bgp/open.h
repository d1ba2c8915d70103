#pragma once
// The OPEN exchange, pure: what we offer (RFC 5492 capabilities), whether a
// peer's OPEN is acceptable (RFC 4271 §6.2) and what both sides agreed on.
#include <cstdint>
#include <variant>
#include <vector>

#include "bgp/message.h"

namespace cpp::bgp {

// What one session is configured to negotiate.
struct SessionParams {
  uint32_t local_asn = 0;
  uint32_t router_id = 0;  // host order
  uint32_t peer_asn = 0;
  uint16_t hold_time_s = 90;
  uint16_t keepalive_s = 30;
  uint16_t connect_retry_s = 120;
  bool passive = false;
  std::vector<Family> families;
  bool families_required = true;  // each of `families` must be offered by the peer; else at least one
  bool graceful_restart = false;
  uint16_t restart_time_s = 120;
  bool restarting = false;  // R bit: we came back from a graceful restart
};

struct Negotiated {
  uint32_t peer_bgp_id = 0;
  uint16_t hold_time_s = 0;  // 0: no hold timer and no keepalives
  uint16_t keepalive_s = 0;
  std::vector<Family> families;
  bool four_octet_as = false;
  bool route_refresh = false;
  bool graceful_restart = false;  // both sides offered it
  uint16_t peer_restart_time_s = 0;
  bool operator==(const Negotiated&) const = default;
};

// Our OPEN: MP per family, route refresh, 4-octet AS, graceful restart
// when enabled (with the R bit and F bits after a restart).
Open build_open(const SessionParams& p);

// The peer's OPEN checked against the configuration: the NOTIFICATION to
// send, or the negotiated parameters.
std::variant<Negotiated, Notification> check_open(const SessionParams& p, const Open& peer);

// Families the peer offers: its MP capabilities, or IPv4 unicast alone when
// it sends none (RFC 4760 §1: IPv4 unicast is implied).
std::vector<Family> offered_families(const Open& peer);

// RFC 4271 §6.8: of two connections to the same peer, the one initiated by
// the speaker with the higher BGP Identifier survives.
bool keep_peer_initiated(uint32_t local_id, uint32_t peer_id);

}  // namespace cpp::bgp
