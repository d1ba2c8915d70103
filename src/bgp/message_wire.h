#pragma once
// Internal to the codec (message_*.cpp): bounded reads, big-endian writes,
// prefix encoding and NOTIFICATION builders. Not part of the API.
#include <array>
#include <optional>
#include <string>

#include "bgp/message.h"

namespace cpp::bgp::wire {

// A read cursor over [p, end). Every read checks the bounds first; callers
// test has(n) and turn a short read into the right NOTIFICATION.
struct Reader {
  const uint8_t* p;
  const uint8_t* end;
  size_t left() const { return static_cast<size_t>(end - p); }
  bool has(size_t n) const { return left() >= n; }
  uint8_t u8() { return *p++; }
  uint16_t u16() {
    uint16_t v = static_cast<uint16_t>((p[0] << 8) | p[1]);
    p += 2;
    return v;
  }
  uint32_t u32() {
    uint32_t v = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
    p += 4;
    return v;
  }
  Reader take(size_t n) {
    Reader r{p, p + n};
    p += n;
    return r;
  }
  Bytes bytes(size_t n) {
    Bytes b(p, p + n);
    p += n;
    return b;
  }
};

inline void put8(Bytes& b, uint8_t v) { b.push_back(v); }
inline void put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
inline void put32(Bytes& b, uint32_t v) {
  put16(b, static_cast<uint16_t>(v >> 16));
  put16(b, static_cast<uint16_t>(v));
}
inline void put(Bytes& b, const Bytes& v) { b.insert(b.end(), v.begin(), v.end()); }
inline Bytes be16(uint16_t v) {
  Bytes b;
  put16(b, v);
  return b;
}

inline DecodeError fail(uint8_t code, uint8_t subcode, std::string what, Bytes data = {}) {
  return DecodeError{Notification{code, subcode, std::move(data)}, std::move(what)};
}

// A prefix as RFC 4271 §4.3 writes it: length in bits, then the fewest
// octets that hold it.
void put_prefix(Bytes& b, const IpPrefix& p);

enum class PrefixError { None, TooLong, Truncated };
struct PrefixResult {
  IpPrefix prefix;
  PrefixError error = PrefixError::None;
  bool host_bits = false;  // bits beyond the length were set (cleared in prefix)
};
PrefixResult read_prefix(Reader& r, bool v6);
std::string describe(PrefixError e, bool v6);

// The message header (marker, length, type) and the per-type length
// bounds of RFC 4271 §6.1 (and RFC 2918 / RFC 7313 for ROUTE-REFRESH).
std::optional<DecodeError> check_header(const uint8_t* buf);

// Per-message codecs. The body is the message without its 19-byte header.
std::variant<Message, DecodeError> decode_open(Reader body);
std::variant<Message, DecodeError> decode_update(Reader body, const DecodeContext& ctx);
std::variant<Message, DecodeError> decode_notification(Reader body);
std::variant<Message, DecodeError> decode_route_refresh(Reader body);
void encode_open_body(Bytes& b, const Open& o);

// UPDATE internals, shared by message_update.cpp, message_attributes.cpp
// and message_mp.cpp.
namespace attr {
inline constexpr uint8_t kOptional = 0x80, kTransitive = 0x40, kPartial = 0x20, kExtendedLength = 0x10;
inline constexpr uint8_t kOrigin = 1, kAsPath = 2, kNextHop = 3, kMed = 4, kLocalPref = 5, kAtomicAggregate = 6,
                         kAggregator = 7, kCommunities = 8, kMpReach = 14, kMpUnreach = 15;
}  // namespace attr

// RFC 7606: the first reason wins; the UPDATE keeps decoding so its NLRI
// can be withdrawn.
inline void withdraw(Update& u, std::string reason) {
  if (u.treat_as_withdraw) return;
  u.treat_as_withdraw = true;
  u.treat_as_withdraw_reason = std::move(reason);
}

// Path attributes: fills u.attrs, u.mp_reach, u.mp_unreach; present[t] is
// set for every attribute type seen (well-formed or not).
std::optional<DecodeError> decode_attributes(Reader r, const DecodeContext& ctx, Update& u,
                                             std::array<bool, 256>& present);
// value: the attribute's value; whole: flags..value, the NOTIFICATION data.
std::optional<DecodeError> decode_mp_reach(Reader value, const Bytes& whole, Update& u);
std::optional<DecodeError> decode_mp_unreach(Reader value, const Bytes& whole, Update& u);
Bytes encode_mp_reach(const MpReach& m);
Bytes encode_mp_unreach(const MpUnreach& m);
void put_attribute(Bytes& b, uint8_t flags, uint8_t type, const Bytes& value);
void encode_update_body(Bytes& b, const Update& u, const DecodeContext& ctx);

}  // namespace cpp::bgp::wire
