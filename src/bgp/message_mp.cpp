// MP_REACH_NLRI / MP_UNREACH_NLRI (RFC 4760 §3-4) for IPv4 and IPv6
// unicast, IPv6 next hops per RFC 2545 (global, or global + link-local).
// Errors follow RFC 7606 §7.11: the NLRI cannot be located reliably, so
// they reset the session with UPDATE / Optional Attribute Error (RFC 4760
// §7) carrying the attribute; only a prefix with host bits set downgrades
// to treat-as-withdraw.
#include <stdexcept>

#include "bgp/message_wire.h"

namespace cpp::bgp::wire {

namespace {

bool parsed_family(Family f) {
  return f.safi == Safi::Unicast && (f.afi == Afi::IPv4 || f.afi == Afi::IPv6);
}

DecodeError mp_error(uint8_t type, uint8_t subcode, const std::string& what, const Bytes& whole) {
  return fail(err::kUpdate, subcode, std::string(type == attr::kMpReach ? "MP_REACH_NLRI" : "MP_UNREACH_NLRI") +
                                         ": " + what, whole);
}

// Families the codec does not parse stay raw so they can be logged.
void keep_raw(Update& u, uint8_t type, const Bytes& whole, size_t value_len) {
  u.attrs.other.push_back(RawAttribute{attr::kOptional, type, Bytes(whole.end() - static_cast<long>(value_len),
                                                                     whole.end())});
}

std::optional<DecodeError> read_prefixes(Reader& r, bool v6, uint8_t type, const Bytes& whole, Update& u,
                                         bool announce, std::vector<IpPrefix>& out) {
  while (r.left() > 0) {
    PrefixResult p = read_prefix(r, v6);
    if (p.error != PrefixError::None) return mp_error(type, err::kOptionalAttributeError, describe(p.error, v6), whole);
    if (p.host_bits && announce) withdraw(u, "MP_REACH_NLRI: prefix " + p.prefix.str() + " has host bits set");
    out.push_back(p.prefix);
  }
  return std::nullopt;
}

}  // namespace

std::optional<DecodeError> decode_mp_reach(Reader v, const Bytes& whole, Update& u) {
  size_t value_len = v.left();
  if (!v.has(5))
    return mp_error(attr::kMpReach, err::kAttributeLengthError,
                    "length " + std::to_string(value_len) + " below the 5-byte minimum", whole);
  MpReach m;
  m.family.afi = static_cast<Afi>(v.u16());
  m.family.safi = static_cast<Safi>(v.u8());
  if (!parsed_family(m.family)) {
    keep_raw(u, attr::kMpReach, whole, value_len);
    return std::nullopt;
  }
  bool v6 = m.family.afi == Afi::IPv6;
  uint8_t nh_len = v.u8();
  bool nh_ok = v6 ? (nh_len == 16 || nh_len == 32) : nh_len == 4;
  if (!nh_ok)
    return mp_error(attr::kMpReach, err::kOptionalAttributeError,
                    "next hop length " + std::to_string(nh_len) + " invalid for " + to_string(m.family), whole);
  if (!v.has(size_t{nh_len} + 1))
    return mp_error(attr::kMpReach, err::kOptionalAttributeError,
                    "next hop length " + std::to_string(nh_len) + " overruns the attribute", whole);
  m.next_hop.v6 = v6;
  for (int i = 0; i < (v6 ? 16 : 4); ++i) m.next_hop.bytes[i] = v.u8();
  if (nh_len == 32) {
    IpAddr ll;
    ll.v6 = true;
    for (int i = 0; i < 16; ++i) ll.bytes[i] = v.u8();
    m.link_local_next_hop = ll;
  }
  v.u8();  // reserved (RFC 4760: ignored on receipt)
  if (auto e = read_prefixes(v, v6, attr::kMpReach, whole, u, true, m.nlri)) return e;
  u.mp_reach = std::move(m);
  return std::nullopt;
}

std::optional<DecodeError> decode_mp_unreach(Reader v, const Bytes& whole, Update& u) {
  size_t value_len = v.left();
  if (!v.has(3))
    return mp_error(attr::kMpUnreach, err::kAttributeLengthError,
                    "length " + std::to_string(value_len) + " below the 3-byte minimum", whole);
  MpUnreach m;
  m.family.afi = static_cast<Afi>(v.u16());
  m.family.safi = static_cast<Safi>(v.u8());
  if (!parsed_family(m.family)) {
    keep_raw(u, attr::kMpUnreach, whole, value_len);
    return std::nullopt;
  }
  if (auto e = read_prefixes(v, m.family.afi == Afi::IPv6, attr::kMpUnreach, whole, u, false, m.withdrawn))
    return e;
  u.mp_unreach = std::move(m);
  return std::nullopt;
}

Bytes encode_mp_reach(const MpReach& m) {
  bool want_v6 = m.family.afi == Afi::IPv6;
  if (!parsed_family(m.family))
    throw std::invalid_argument("MP_REACH_NLRI: family " + to_string(m.family) + " is not encoded by the codec");
  if (m.next_hop.v6 != want_v6 || (m.link_local_next_hop && (!want_v6 || !m.link_local_next_hop->v6)))
    throw std::invalid_argument("MP_REACH_NLRI: next hop " + m.next_hop.str() + " does not match " +
                                to_string(m.family));
  for (const IpPrefix& p : m.nlri)
    if (p.addr.v6 != want_v6)
      throw std::invalid_argument("MP_REACH_NLRI: prefix " + p.str() + " is not " + to_string(m.family));
  Bytes b;
  put16(b, static_cast<uint16_t>(m.family.afi));
  put8(b, static_cast<uint8_t>(m.family.safi));
  bool v6 = m.next_hop.v6;
  int nh = v6 ? 16 : 4;
  put8(b, static_cast<uint8_t>(m.link_local_next_hop ? 32 : nh));
  b.insert(b.end(), m.next_hop.bytes.begin(), m.next_hop.bytes.begin() + nh);
  if (m.link_local_next_hop)
    b.insert(b.end(), m.link_local_next_hop->bytes.begin(), m.link_local_next_hop->bytes.end());
  put8(b, 0);
  for (const IpPrefix& p : m.nlri) put_prefix(b, p);
  return b;
}

Bytes encode_mp_unreach(const MpUnreach& m) {
  if (!parsed_family(m.family))
    throw std::invalid_argument("MP_UNREACH_NLRI: family " + to_string(m.family) + " is not encoded by the codec");
  for (const IpPrefix& p : m.withdrawn)
    if (p.addr.v6 != (m.family.afi == Afi::IPv6))
      throw std::invalid_argument("MP_UNREACH_NLRI: prefix " + p.str() + " is not " + to_string(m.family));
  Bytes b;
  put16(b, static_cast<uint16_t>(m.family.afi));
  put8(b, static_cast<uint8_t>(m.family.safi));
  for (const IpPrefix& p : m.withdrawn) put_prefix(b, p);
  return b;
}

}  // namespace cpp::bgp::wire
