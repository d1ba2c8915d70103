// UPDATE (RFC 4271 §4.3): withdrawn routes, path attributes, NLRI; the
// field-length checks of §6.3 and the well-known attribute checks as
// RFC 7606 §3(d) revises them (treat-as-withdraw).
//
// Received prefixes with bits set beyond their length: RFC 4271 calls the
// trailing bits irrelevant; ciliumpp clears them and, for announcements,
// marks the UPDATE treat-as-withdraw (RFC 7606's remedy for a malformed
// route that still parses) since such a prefix is not what the peer's RIB
// holds. Withdrawals with host bits are accepted with the bits cleared:
// withdrawing is always safe.
#include <stdexcept>

#include "bgp/message_wire.h"

namespace cpp::bgp::wire {

namespace {

DecodeError network_error(const std::string& field, PrefixError e) {
  return fail(err::kUpdate, err::kInvalidNetworkField, "UPDATE: " + field + ": " + describe(e, false));
}

void require(Update& u, const std::array<bool, 256>& present, uint8_t type, const char* name) {
  if (!present[type]) withdraw(u, std::string("missing well-known attribute ") + name);
}

}  // namespace

std::variant<Message, DecodeError> decode_update(Reader body, const DecodeContext& ctx) {
  Update u;
  // RFC 4271 §6.3: lengths that overrun the message are a Malformed
  // Attribute List (the header already guaranteed 4 bytes).
  uint16_t withdrawn_len = body.u16();
  if (!body.has(size_t{withdrawn_len} + 2))
    return fail(err::kUpdate, err::kMalformedAttributeList,
                "UPDATE: withdrawn routes length " + std::to_string(withdrawn_len) + " overruns the message");
  Reader withdrawn = body.take(withdrawn_len);
  uint16_t attrs_len = body.u16();
  if (!body.has(attrs_len))
    return fail(err::kUpdate, err::kMalformedAttributeList,
                "UPDATE: total path attribute length " + std::to_string(attrs_len) + " overruns the message");
  Reader attrs = body.take(attrs_len);
  Reader nlri = body;

  while (withdrawn.left() > 0) {
    PrefixResult p = read_prefix(withdrawn, false);
    if (p.error != PrefixError::None) return network_error("withdrawn routes", p.error);
    u.withdrawn.push_back(p.prefix);
  }
  std::array<bool, 256> present{};
  if (auto e = decode_attributes(attrs, ctx, u, present)) return *e;
  while (nlri.left() > 0) {
    PrefixResult p = read_prefix(nlri, false);
    if (p.error != PrefixError::None) return network_error("NLRI", p.error);
    if (p.host_bits) withdraw(u, "NLRI prefix " + p.prefix.str() + " has host bits set");
    u.nlri.push_back(p.prefix);
  }
  // NEXT_HOP is mandatory only with IPv4 NLRI in the UPDATE's own field
  // (RFC 4760 §3 makes it discretionary otherwise).
  if (!u.nlri.empty() || u.mp_reach) {
    require(u, present, attr::kOrigin, "ORIGIN (type 1)");
    require(u, present, attr::kAsPath, "AS_PATH (type 2)");
  }
  if (!u.nlri.empty()) require(u, present, attr::kNextHop, "NEXT_HOP (type 3)");
  return Message{std::move(u)};
}

namespace {

Bytes u32_value(uint32_t v) {
  Bytes b;
  put32(b, v);
  return b;
}

Bytes as_path_value(const std::vector<AsPathSegment>& path, bool four_octet) {
  Bytes b;
  for (const AsPathSegment& s : path) {
    if (s.asns.size() > 255 && s.type != AsPathSegment::Type::Sequence)
      throw std::invalid_argument("AS_PATH: a set of " + std::to_string(s.asns.size()) + " ASNs exceeds 255");
    // Long sequences split into consecutive segments of at most 255.
    for (size_t i = 0; i < s.asns.size(); i += 255) {
      size_t n = std::min<size_t>(255, s.asns.size() - i);
      put8(b, static_cast<uint8_t>(s.type));
      put8(b, static_cast<uint8_t>(n));
      for (size_t j = i; j < i + n; ++j) {
        uint32_t asn = s.asns[j];
        if (four_octet) put32(b, asn);
        else put16(b, asn > 0xffff ? kAsTrans : static_cast<uint16_t>(asn));
      }
    }
  }
  return b;
}

}  // namespace

void encode_update_body(Bytes& b, const Update& u, const DecodeContext& ctx) {
  using namespace attr;
  Bytes withdrawn;
  for (const IpPrefix& p : u.withdrawn) {
    if (p.addr.v6) throw std::invalid_argument("UPDATE: IPv6 prefix " + p.str() + " belongs in MP_UNREACH_NLRI");
    put_prefix(withdrawn, p);
  }
  if (withdrawn.size() > 0xffff) throw std::invalid_argument("UPDATE: withdrawn routes exceed 65535 bytes");
  put16(b, static_cast<uint16_t>(withdrawn.size()));
  put(b, withdrawn);

  // RFC 7606 §5.1: MP_(UN)REACH_NLRI first so a receiver finds the NLRI
  // even if a later attribute is malformed; the rest ascending by type
  // (RFC 4271 §5).
  Bytes attrs;
  const PathAttributes& a = u.attrs;
  if (u.mp_reach) put_attribute(attrs, kOptional, kMpReach, encode_mp_reach(*u.mp_reach));
  if (u.mp_unreach) put_attribute(attrs, kOptional, kMpUnreach, encode_mp_unreach(*u.mp_unreach));
  for (const RawAttribute& r : a.other)
    if (r.type == kMpReach || r.type == kMpUnreach) put_attribute(attrs, r.flags, r.type, r.value);
  // Raw attributes interleave with the typed ones; each typed attribute is
  // preceded by the raw ones whose type is lower and not yet written.
  int written_below = 0;
  auto flush_to = [&](int type) {
    for (const RawAttribute& r : a.other)
      if (r.type >= written_below && r.type < type && r.type != kMpReach && r.type != kMpUnreach)
        put_attribute(attrs, r.flags, r.type, r.value);
    written_below = type;
  };
  if (a.origin) {
    flush_to(kOrigin);
    put_attribute(attrs, kTransitive, kOrigin, Bytes{static_cast<uint8_t>(*a.origin)});
  }
  // AS_PATH is mandatory with reachability, even when empty (iBGP).
  if (!a.as_path.empty() || !u.nlri.empty() || u.mp_reach) {
    flush_to(kAsPath);
    put_attribute(attrs, kTransitive, kAsPath, as_path_value(a.as_path, ctx.four_octet_as));
  }
  if (a.next_hop) {
    if (a.next_hop->v6) throw std::invalid_argument("UPDATE: NEXT_HOP " + a.next_hop->str() + " is not IPv4");
    flush_to(kNextHop);
    put_attribute(attrs, kTransitive, kNextHop, Bytes(a.next_hop->bytes.begin(), a.next_hop->bytes.begin() + 4));
  }
  if (a.med) {
    flush_to(kMed);
    put_attribute(attrs, kOptional, kMed, u32_value(*a.med));
  }
  if (a.local_pref) {
    flush_to(kLocalPref);
    put_attribute(attrs, kTransitive, kLocalPref, u32_value(*a.local_pref));
  }
  if (!a.communities.empty()) {
    flush_to(kCommunities);
    Bytes v;
    for (uint32_t c : a.communities) put32(v, c);
    put_attribute(attrs, kOptional | kTransitive, kCommunities, v);
  }
  flush_to(256);
  if (attrs.size() > 0xffff) throw std::invalid_argument("UPDATE: path attributes exceed 65535 bytes");
  put16(b, static_cast<uint16_t>(attrs.size()));
  put(b, attrs);
  for (const IpPrefix& p : u.nlri) {
    if (p.addr.v6) throw std::invalid_argument("UPDATE: IPv6 prefix " + p.str() + " belongs in MP_REACH_NLRI");
    put_prefix(b, p);
  }
}

}  // namespace cpp::bgp::wire
