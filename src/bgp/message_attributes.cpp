// UPDATE path attributes (RFC 4271 §4.3, §5, §6.3) with the revised error
// handling of RFC 7606: malformed ORIGIN, AS_PATH, NEXT_HOP, MED,
// LOCAL_PREF and COMMUNITIES (length, value or flags) make the UPDATE
// treat-as-withdraw; malformed ATOMIC_AGGREGATE / AGGREGATOR are discarded;
// repeated attributes other than MP_(UN)REACH_NLRI keep the first (§3g);
// MP_(UN)REACH_NLRI problems reset the session (§7.11).
#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "bgp/message_wire.h"

namespace cpp::bgp::wire {

namespace {

std::string name(uint8_t type) {
  switch (type) {
    case attr::kOrigin: return "ORIGIN";
    case attr::kAsPath: return "AS_PATH";
    case attr::kNextHop: return "NEXT_HOP";
    case attr::kMed: return "MULTI_EXIT_DISC";
    case attr::kLocalPref: return "LOCAL_PREF";
    case attr::kAtomicAggregate: return "ATOMIC_AGGREGATE";
    case attr::kAggregator: return "AGGREGATOR";
    case attr::kCommunities: return "COMMUNITIES";
    case attr::kMpReach: return "MP_REACH_NLRI";
    case attr::kMpUnreach: return "MP_UNREACH_NLRI";
  }
  return "attribute " + std::to_string(type);
}

// The flags (Optional, Transitive, and Partial where it must be 0) each
// recognized attribute must carry; nullopt for attributes kept raw.
std::optional<uint8_t> expected_flags(uint8_t type, uint8_t& mask) {
  using namespace attr;
  mask = kOptional | kTransitive | kPartial;
  switch (type) {
    case kOrigin: case kAsPath: case kNextHop: case kLocalPref: case kAtomicAggregate: return kTransitive;
    case kMed: case kMpReach: case kMpUnreach: return kOptional;
    case kAggregator: case kCommunities: mask = kOptional | kTransitive; return kOptional | kTransitive;
  }
  return std::nullopt;
}

std::optional<std::string> decode_as_path(Reader v, bool four_octet, std::vector<AsPathSegment>& out) {
  size_t width = four_octet ? 4 : 2;
  while (v.left() > 0) {
    // RFC 7606 §7.2: a lone trailing octet, type 0 or > 4, an empty
    // segment and an overrun all make the AS_PATH malformed.
    if (!v.has(2)) return "AS_PATH ends with a 1-byte segment header";
    uint8_t type = v.u8();
    uint8_t count = v.u8();
    if (type < 1 || type > 4) return "AS_PATH segment type " + std::to_string(type) + " unknown";
    if (count == 0) return "AS_PATH segment with 0 ASNs";
    if (!v.has(count * width))
      return "AS_PATH segment of " + std::to_string(count) + " " + std::to_string(width) +
             "-byte ASNs overruns the attribute";
    AsPathSegment s;
    s.type = static_cast<AsPathSegment::Type>(type);
    for (int i = 0; i < count; ++i) s.asns.push_back(four_octet ? v.u32() : v.u16());
    out.push_back(std::move(s));
  }
  return std::nullopt;
}

std::optional<uint32_t> read_u32(Reader v) {
  if (v.left() != 4) return std::nullopt;
  return v.u32();
}

// One attribute with a sane header and length; whole is flags..value.
std::optional<DecodeError> decode_one(uint8_t flags, uint8_t type, Reader v, const Bytes& whole,
                                      const DecodeContext& ctx, Update& u) {
  PathAttributes& a = u.attrs;
  size_t len = v.left();
  uint8_t mask = 0;
  auto want = expected_flags(type, mask);
  if (!want) {
    // RFC 4271 §6.3: an unknown attribute must be optional.
    if (!(flags & attr::kOptional))
      return fail(err::kUpdate, err::kUnrecognizedWellKnownAttribute,
                  "UPDATE: unrecognized well-known attribute " + std::to_string(type), whole);
    a.other.push_back(RawAttribute{static_cast<uint8_t>(flags & ~attr::kExtendedLength), type, v.bytes(len)});
    return std::nullopt;
  }
  if ((flags & mask) != *want) {
    char hex[8];
    std::snprintf(hex, sizeof(hex), "0x%02x", flags);
    std::string what = name(type) + " has flags " + hex + " conflicting with its type";
    if (type == attr::kMpReach || type == attr::kMpUnreach)
      return fail(err::kUpdate, err::kAttributeFlagsError, "UPDATE: " + what, whole);
    if (type == attr::kAtomicAggregate || type == attr::kAggregator) return std::nullopt;  // §7.6, §7.7: discard
    withdraw(u, what);
    return std::nullopt;
  }
  auto bad_length = [&] {
    withdraw(u, name(type) + " has invalid length " + std::to_string(len));
    return std::nullopt;
  };
  switch (type) {
    case attr::kOrigin: {
      if (len != 1) return bad_length();
      uint8_t o = v.u8();
      if (o > 2) {
        withdraw(u, "ORIGIN value " + std::to_string(o) + " is not IGP, EGP or INCOMPLETE");
        return std::nullopt;
      }
      a.origin = static_cast<Origin>(o);
      return std::nullopt;
    }
    case attr::kAsPath: {
      std::vector<AsPathSegment> segs;
      if (auto bad = decode_as_path(v, ctx.four_octet_as, segs)) {
        withdraw(u, *bad);
        return std::nullopt;
      }
      a.as_path = std::move(segs);
      return std::nullopt;
    }
    case attr::kNextHop: {
      if (len != 4) return bad_length();
      IpAddr nh;
      for (int i = 0; i < 4; ++i) nh.bytes[i] = v.u8();
      // RFC 4271 §6.3: the NEXT_HOP must be a valid host address; RFC 7606
      // §7.3 makes a bad one treat-as-withdraw. 0.0.0.0 and 224/3
      // (multicast, reserved, broadcast) never are.
      if (nh.bytes[0] >= 224 || (nh.bytes[0] | nh.bytes[1] | nh.bytes[2] | nh.bytes[3]) == 0) {
        withdraw(u, "NEXT_HOP " + nh.str() + " is not a host address");
        return std::nullopt;
      }
      a.next_hop = nh;
      return std::nullopt;
    }
    case attr::kMed:
      if (!(a.med = read_u32(v))) return bad_length();
      return std::nullopt;
    case attr::kLocalPref:
      if (!(a.local_pref = read_u32(v))) return bad_length();
      return std::nullopt;
    case attr::kCommunities:
      if (len == 0 || len % 4 != 0) return bad_length();  // RFC 7606 §7.8
      while (v.left() > 0) a.communities.push_back(v.u32());
      return std::nullopt;
    case attr::kAtomicAggregate:
    case attr::kAggregator: {
      size_t want_len = type == attr::kAtomicAggregate ? 0 : ctx.four_octet_as ? 8 : 6;
      if (len == want_len) a.other.push_back(RawAttribute{static_cast<uint8_t>(flags & ~attr::kExtendedLength), type,
                                                          v.bytes(len)});
      return std::nullopt;
    }
    case attr::kMpReach: return decode_mp_reach(v, whole, u);
    case attr::kMpUnreach: return decode_mp_unreach(v, whole, u);
  }
  return std::nullopt;
}

}  // namespace

std::optional<DecodeError> decode_attributes(Reader r, const DecodeContext& ctx, Update& u,
                                             std::array<bool, 256>& present) {
  while (r.left() > 0) {
    const uint8_t* start = r.p;
    // RFC 7606 §4: too few bytes for an attribute header, or a length past
    // the Total Path Attribute Length, is treat-as-withdraw; the NLRI is
    // still found through the total length. An MP attribute cut short is
    // the exception: its prefixes cannot be known, so the session resets.
    if (!r.has(3)) {
      withdraw(u, "path attributes end with " + std::to_string(r.left()) + " stray bytes");
      break;
    }
    uint8_t flags = r.u8();
    uint8_t type = r.u8();
    bool ext = flags & attr::kExtendedLength;
    if (ext && !r.has(2)) {
      withdraw(u, name(type) + " header truncated");
      break;
    }
    size_t len = ext ? r.u16() : r.u8();
    if (!r.has(len)) {
      std::string what = name(type) + " length " + std::to_string(len) + " overruns the path attributes";
      if (type == attr::kMpReach || type == attr::kMpUnreach)
        return fail(err::kUpdate, err::kAttributeLengthError, "UPDATE: " + what, Bytes(start, r.end));
      withdraw(u, what);
      break;
    }
    Reader value = r.take(len);
    Bytes whole(start, r.p);
    if (present[type]) {
      if (type == attr::kMpReach || type == attr::kMpUnreach)
        return fail(err::kUpdate, err::kMalformedAttributeList, "UPDATE: " + name(type) + " appears twice");
      continue;
    }
    present[type] = true;
    if (auto e = decode_one(flags, type, value, whole, ctx, u)) return e;
  }
  // A canonical order, so that decode(encode(x)) == x whatever the peer sent.
  std::stable_sort(u.attrs.other.begin(), u.attrs.other.end(),
                   [](const RawAttribute& x, const RawAttribute& y) { return x.type < y.type; });
  return std::nullopt;
}

void put_attribute(Bytes& b, uint8_t flags, uint8_t type, const Bytes& value) {
  bool ext = value.size() > 255;
  if (value.size() > 0xffff) throw std::invalid_argument(name(type) + " value exceeds 65535 bytes");
  put8(b, static_cast<uint8_t>((flags & ~attr::kExtendedLength) | (ext ? attr::kExtendedLength : 0)));
  put8(b, type);
  if (ext) put16(b, static_cast<uint16_t>(value.size()));
  else put8(b, static_cast<uint8_t>(value.size()));
  put(b, value);
}

}  // namespace cpp::bgp::wire
