// Human names: families, NOTIFICATION codes (RFC 4271 §4.5, RFC 4486,
// RFC 6608, RFC 7313, RFC 8538, IANA registry), and End-of-RIB detection.
#include "bgp/message.h"

namespace cpp::bgp {

std::string to_string(Family f) {
  if (f.safi == Safi::Unicast && f.afi == Afi::IPv4) return "ipv4-unicast";
  if (f.safi == Safi::Unicast && f.afi == Afi::IPv6) return "ipv6-unicast";
  return "afi-" + std::to_string(static_cast<unsigned>(f.afi)) + "-safi-" +
         std::to_string(static_cast<unsigned>(f.safi));
}

namespace {

const char* code_name(uint8_t code) {
  switch (code) {
    case err::kHeader: return "Message Header Error";
    case err::kOpen: return "OPEN Message Error";
    case err::kUpdate: return "UPDATE Message Error";
    case err::kHoldTimerExpired: return "Hold Timer Expired";
    case err::kFsm: return "Finite State Machine Error";
    case err::kCease: return "Cease";
    case err::kRouteRefresh: return "ROUTE-REFRESH Message Error";
  }
  return nullptr;
}

const char* subcode_name(uint8_t code, uint8_t sub) {
  if (sub == 0) return "Unspecific";
  switch (code) {
    case err::kHeader:
      switch (sub) {
        case 1: return "Connection Not Synchronized";
        case 2: return "Bad Message Length";
        case 3: return "Bad Message Type";
      }
      break;
    case err::kOpen:
      switch (sub) {
        case 1: return "Unsupported Version Number";
        case 2: return "Bad Peer AS";
        case 3: return "Bad BGP Identifier";
        case 4: return "Unsupported Optional Parameter";
        case 6: return "Unacceptable Hold Time";
        case 7: return "Unsupported Capability";
        case 11: return "Role Mismatch";
      }
      break;
    case err::kUpdate:
      switch (sub) {
        case 1: return "Malformed Attribute List";
        case 2: return "Unrecognized Well-known Attribute";
        case 3: return "Missing Well-known Attribute";
        case 4: return "Attribute Flags Error";
        case 5: return "Attribute Length Error";
        case 6: return "Invalid ORIGIN Attribute";
        case 8: return "Invalid NEXT_HOP Attribute";
        case 9: return "Optional Attribute Error";
        case 10: return "Invalid Network Field";
        case 11: return "Malformed AS_PATH";
      }
      break;
    case err::kFsm:
      switch (sub) {
        case 1: return "Receive Unexpected Message in OpenSent State";
        case 2: return "Receive Unexpected Message in OpenConfirm State";
        case 3: return "Receive Unexpected Message in Established State";
      }
      break;
    case err::kCease:
      switch (sub) {
        case 1: return "Maximum Number of Prefixes Reached";
        case 2: return "Administrative Shutdown";
        case 3: return "Peer De-configured";
        case 4: return "Administrative Reset";
        case 5: return "Connection Rejected";
        case 6: return "Other Configuration Change";
        case 7: return "Connection Collision Resolution";
        case 8: return "Out of Resources";
        case 9: return "Hard Reset";
        case 10: return "BFD Down";
      }
      break;
    case err::kRouteRefresh:
      if (sub == 1) return "Invalid Message Length";
      break;
  }
  return nullptr;
}

}  // namespace

std::string Notification::str() const {
  const char* c = code_name(code);
  std::string out = c ? c : "Unknown Error Code " + std::to_string(code);
  // Hold Timer Expired has no subcodes; "/ Unspecific" would only add noise.
  if (code == err::kHoldTimerExpired && subcode == 0) return out;
  const char* s = subcode_name(code, subcode);
  return out + " / " + (s ? s : "Subcode " + std::to_string(subcode));
}

std::optional<Family> Update::end_of_rib() const {
  const PathAttributes& a = attrs;
  bool no_attrs = !a.origin && a.as_path.empty() && !a.next_hop && !a.med && !a.local_pref &&
                  a.communities.empty() && a.other.empty();
  if (!no_attrs || treat_as_withdraw || mp_reach || !withdrawn.empty() || !nlri.empty()) return std::nullopt;
  if (!mp_unreach) return Family{Afi::IPv4, Safi::Unicast};
  if (mp_unreach->withdrawn.empty()) return mp_unreach->family;
  return std::nullopt;
}

Update Update::end_of_rib_marker(Family f) {
  Update u;
  if (!(f == Family{Afi::IPv4, Safi::Unicast})) u.mp_unreach = MpUnreach{f, {}};
  return u;
}

}  // namespace cpp::bgp
