#pragma once
// Adj-RIB-Out, pure: which routes a session advertises (with the next hop
// resolved) and the UPDATEs that move a peer from what it was sent to what
// it should have.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bgp/message.h"
#include "bgp/speaker.h"

namespace cpp::bgp {

struct RibOutContext {
  uint32_t local_asn = 0;
  bool ebgp = true;
  bool four_octet_as = true;
  std::vector<Family> families;        // negotiated
  std::optional<IpAddr> local_v4;      // the session's local addresses
  std::optional<IpAddr> local_v6;
};

using RibOut = std::map<IpPrefix, IpAddr>;  // prefix -> next hop sent

struct Resolved {
  RibOut routes;
  std::vector<std::string> skipped;  // "2001:db8::/64: no IPv6 next hop over an IPv4 session"
};

Family family_of(const IpPrefix& p);

// The routes this session can send: negotiated families only, next hop the
// route's own or the session's local address of the route's family.
Resolved resolve_routes(const std::vector<Route>& routes, const RibOutContext& ctx);

// UPDATEs turning `sent` into `desired`: withdrawals, then announcements
// grouped by next hop, each message within kMaxMessageLen.
std::vector<Update> diff_updates(const RibOut& sent, const RibOut& desired, const RibOutContext& ctx);

// End-of-RIB markers (RFC 4724 §2) for the negotiated families.
std::vector<Update> end_of_rib(const std::vector<Family>& families);

}  // namespace cpp::bgp
