// OPEN (RFC 4271 §4.2) and its capabilities optional parameter (RFC 5492):
// multiprotocol (RFC 4760), route refresh (RFC 2918, and the pre-standard
// code 128), graceful restart (RFC 4724), 4-octet AS (RFC 6793).
#include <stdexcept>

#include "bgp/message_wire.h"

namespace cpp::bgp::wire {

namespace {

constexpr uint8_t kParamCapabilities = 2;
constexpr uint8_t kCapMultiprotocol = 1, kCapRouteRefresh = 2, kCapGracefulRestart = 64, kCapFourOctetAs = 65,
                  kCapRouteRefreshOld = 128;
constexpr uint16_t kGrRestartBit = 0x8000, kGrTimeMask = 0x0fff;
constexpr uint8_t kGrForwardingBit = 0x80;

// RFC 4271 §6.2: a recognized optional parameter that is malformed gets
// subcode 0; RFC 5492 leaves malformed capabilities to the same rule.
DecodeError malformed(const std::string& what) { return fail(err::kOpen, err::kUnspecific, "OPEN: " + what); }

std::string cap_where(uint8_t code) { return "capability " + std::to_string(code); }

std::optional<DecodeError> decode_capability(uint8_t code, Reader v, Capabilities& caps) {
  size_t len = v.left();
  auto bad_len = [&](const char* expected) {
    return malformed(cap_where(code) + " has length " + std::to_string(len) + ", expected " + expected);
  };
  switch (code) {
    case kCapMultiprotocol: {
      if (len != 4) return bad_len("4");
      Family f;
      f.afi = static_cast<Afi>(v.u16());
      v.u8();  // reserved
      f.safi = static_cast<Safi>(v.u8());
      caps.multiprotocol.push_back(f);
      return std::nullopt;
    }
    case kCapRouteRefresh:
    case kCapRouteRefreshOld:
      if (len != 0) return bad_len("0");
      caps.route_refresh = true;
      return std::nullopt;
    case kCapFourOctetAs:
      if (len != 4) return bad_len("4");
      caps.four_octet_as = v.u32();
      return std::nullopt;
    case kCapGracefulRestart: {
      if (len < 2 || (len - 2) % 4 != 0) return bad_len("2 + 4 per family");
      GracefulRestartCap gr;
      uint16_t flags_time = v.u16();
      gr.restart_state = (flags_time & kGrRestartBit) != 0;
      gr.restart_time_s = flags_time & kGrTimeMask;
      while (v.left() > 0) {
        GracefulRestartCap::Af af;
        af.family.afi = static_cast<Afi>(v.u16());
        af.family.safi = static_cast<Safi>(v.u8());
        af.forwarding_preserved = (v.u8() & kGrForwardingBit) != 0;
        gr.families.push_back(af);
      }
      caps.graceful_restart = std::move(gr);
      return std::nullopt;
    }
  }
  caps.unknown.push_back(UnknownCap{code, v.bytes(len)});
  return std::nullopt;
}

std::optional<DecodeError> decode_capabilities(Reader r, Capabilities& caps) {
  while (r.left() > 0) {
    if (!r.has(2)) return malformed("capability header truncated");
    uint8_t code = r.u8();
    uint8_t len = r.u8();
    if (!r.has(len)) return malformed(cap_where(code) + " length " + std::to_string(len) + " overruns its parameter");
    if (auto e = decode_capability(code, r.take(len), caps)) return e;
  }
  return std::nullopt;
}

void put_capability(Bytes& b, uint8_t code, const Bytes& value) {
  if (value.size() > 255) throw std::invalid_argument(cap_where(code) + " value exceeds 255 bytes");
  put8(b, code);
  put8(b, static_cast<uint8_t>(value.size()));
  put(b, value);
}

Bytes encode_capabilities(const Capabilities& caps) {
  Bytes b;
  for (const Family& f : caps.multiprotocol) {
    Bytes v;
    put16(v, static_cast<uint16_t>(f.afi));
    put8(v, 0);
    put8(v, static_cast<uint8_t>(f.safi));
    put_capability(b, kCapMultiprotocol, v);
  }
  if (caps.route_refresh) put_capability(b, kCapRouteRefresh, {});
  if (caps.four_octet_as) {
    Bytes v;
    put32(v, *caps.four_octet_as);
    put_capability(b, kCapFourOctetAs, v);
  }
  if (caps.graceful_restart) {
    const GracefulRestartCap& gr = *caps.graceful_restart;
    Bytes v;
    put16(v, static_cast<uint16_t>((gr.restart_state ? kGrRestartBit : 0) | (gr.restart_time_s & kGrTimeMask)));
    for (const auto& af : gr.families) {
      put16(v, static_cast<uint16_t>(af.family.afi));
      put8(v, static_cast<uint8_t>(af.family.safi));
      put8(v, af.forwarding_preserved ? kGrForwardingBit : 0);
    }
    put_capability(b, kCapGracefulRestart, v);
  }
  for (const UnknownCap& u : caps.unknown) put_capability(b, u.code, u.value);
  return b;
}

}  // namespace

std::variant<Message, DecodeError> decode_open(Reader body) {
  Open o;
  o.version = body.u8();
  o.my_as = body.u16();
  o.hold_time_s = body.u16();
  o.bgp_id = body.u32();
  uint8_t opt_len = body.u8();
  // RFC 4271 §6.2: the data is the largest version we support below the
  // peer's bid, or our smallest: 4 either way.
  if (o.version != 4)
    return fail(err::kOpen, err::kUnsupportedVersion, "OPEN: version " + std::to_string(o.version) + ", we speak 4",
                be16(4));
  if (o.hold_time_s == 1 || o.hold_time_s == 2)
    return fail(err::kOpen, err::kUnacceptableHoldTime,
                "OPEN: hold time " + std::to_string(o.hold_time_s) + "s (must be 0 or at least 3)");
  // RFC 6286 §2.1: the BGP Identifier is a non-zero 32-bit number.
  if (o.bgp_id == 0) return fail(err::kOpen, err::kBadBgpIdentifier, "OPEN: BGP identifier 0.0.0.0");
  if (body.left() != opt_len)
    return malformed("optional parameters length " + std::to_string(opt_len) + " but " +
                     std::to_string(body.left()) + " bytes follow");
  while (body.left() > 0) {
    if (!body.has(2)) return malformed("optional parameter header truncated");
    uint8_t type = body.u8();
    uint8_t len = body.u8();
    if (!body.has(len))
      return malformed("optional parameter " + std::to_string(type) + " length " + std::to_string(len) +
                       " overruns the parameters");
    Reader value = body.take(len);
    if (type != kParamCapabilities)
      return fail(err::kOpen, err::kUnsupportedOptionalParameter,
                  "OPEN: optional parameter type " + std::to_string(type) + " is not capabilities (2)");
    if (auto e = decode_capabilities(value, o.caps)) return *e;
  }
  return Message{std::move(o)};
}

void encode_open_body(Bytes& b, const Open& o) {
  put8(b, o.version);
  put16(b, o.my_as);
  put16(b, o.hold_time_s);
  put32(b, o.bgp_id);
  Bytes caps = encode_capabilities(o.caps);
  if (caps.empty()) {
    put8(b, 0);
    return;
  }
  // One capabilities parameter holds them all (RFC 5492 §4 allows either).
  if (caps.size() > 253) throw std::invalid_argument("OPEN capabilities exceed one optional parameter (253 bytes)");
  put8(b, static_cast<uint8_t>(caps.size() + 2));
  put8(b, kParamCapabilities);
  put8(b, static_cast<uint8_t>(caps.size()));
  put(b, caps);
}

}  // namespace cpp::bgp::wire
