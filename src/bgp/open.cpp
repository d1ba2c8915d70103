#include "bgp/open.h"

#include <algorithm>

namespace cpp::bgp {

Open build_open(const SessionParams& p) {
  Open o;
  o.my_as = p.local_asn > 0xffff ? kAsTrans : static_cast<uint16_t>(p.local_asn);
  o.hold_time_s = p.hold_time_s;
  o.bgp_id = p.router_id;
  o.caps.multiprotocol = p.families;
  o.caps.route_refresh = true;
  o.caps.four_octet_as = p.local_asn;
  if (p.graceful_restart) {
    GracefulRestartCap gr;
    gr.restart_state = p.restarting;
    gr.restart_time_s = std::min<uint16_t>(p.restart_time_s, 4095);
    for (const auto& f : p.families) gr.families.push_back({f, p.restarting});
    o.caps.graceful_restart = gr;
  }
  return o;
}

std::vector<Family> offered_families(const Open& peer) {
  if (peer.caps.multiprotocol.empty()) return {Family{Afi::IPv4, Safi::Unicast}};
  return peer.caps.multiprotocol;
}

namespace {

Notification open_error(uint8_t subcode, Bytes data = {}) { return {err::kOpen, subcode, std::move(data)}; }

Bytes be16(uint16_t v) { return {static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)}; }

Bytes be32(uint32_t v) {
  return {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16), static_cast<uint8_t>(v >> 8),
          static_cast<uint8_t>(v)};
}

}  // namespace

std::variant<Negotiated, Notification> check_open(const SessionParams& p, const Open& peer) {
  if (peer.version != 4) return open_error(err::kUnsupportedVersion, be16(4));
  // A peer whose real AS needs 4 octets but that sends AS_TRANS without the
  // capability cannot be matched; the configured AS decides either way.
  if (peer.asn() != p.peer_asn) return open_error(err::kBadPeerAs, be16(peer.my_as));
  if (peer.hold_time_s == 1 || peer.hold_time_s == 2) return open_error(err::kUnacceptableHoldTime);
  if (peer.bgp_id == 0 || peer.bgp_id == 0xffffffff || peer.bgp_id == p.router_id)
    return open_error(err::kBadBgpIdentifier, be32(peer.bgp_id));
  auto offered = offered_families(peer);
  std::vector<Family> common;
  Bytes missing;  // RFC 5492 §3: the capabilities we need, as they would be encoded
  for (const auto& f : p.families) {
    if (std::find(offered.begin(), offered.end(), f) != offered.end()) {
      common.push_back(f);
      continue;
    }
    Bytes cap{1, 4, 0, static_cast<uint8_t>(f.afi), 0, static_cast<uint8_t>(f.safi)};
    missing.insert(missing.end(), cap.begin(), cap.end());
  }
  // Without a requirement a session still needs one family to carry routes.
  if (!missing.empty() && (p.families_required || common.empty()))
    return open_error(err::kUnsupportedCapability, std::move(missing));

  Negotiated n;
  n.peer_bgp_id = peer.bgp_id;
  n.hold_time_s = std::min(p.hold_time_s, peer.hold_time_s);
  n.keepalive_s = n.hold_time_s == 0 ? 0 : std::min<uint16_t>(p.keepalive_s, n.hold_time_s / 3);
  if (n.hold_time_s != 0 && n.keepalive_s == 0) n.keepalive_s = 1;
  n.families = std::move(common);
  n.four_octet_as = peer.caps.four_octet_as.has_value();
  n.route_refresh = peer.caps.route_refresh;
  n.graceful_restart = p.graceful_restart && peer.caps.graceful_restart.has_value();
  if (peer.caps.graceful_restart) n.peer_restart_time_s = peer.caps.graceful_restart->restart_time_s;
  return n;
}

bool keep_peer_initiated(uint32_t local_id, uint32_t peer_id) { return local_id < peer_id; }

}  // namespace cpp::bgp
