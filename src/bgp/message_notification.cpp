// NOTIFICATION (RFC 4271 §4.5) and ROUTE-REFRESH (RFC 2918, subtypes of
// RFC 7313). KEEPALIVE has no body and is handled by the framing.
#include "bgp/message_wire.h"

namespace cpp::bgp::wire {

std::variant<Message, DecodeError> decode_notification(Reader body) {
  Notification n;
  n.code = body.u8();
  n.subcode = body.u8();
  n.data = body.bytes(body.left());
  return Message{std::move(n)};
}

// RFC 2918 §4: a ROUTE-REFRESH for a family that was not negotiated is
// ignored, not an error, so any AFI/SAFI decodes and the session decides.
std::variant<Message, DecodeError> decode_route_refresh(Reader body) {
  RouteRefresh r;
  r.family.afi = static_cast<Afi>(body.u16());
  r.subtype = body.u8();
  r.family.safi = static_cast<Safi>(body.u8());
  return Message{r};
}

}  // namespace cpp::bgp::wire
