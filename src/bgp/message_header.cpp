// Framing: the 19-byte header shared by every message (RFC 4271 §4.1) and
// the dispatch to the per-type codecs.
#include <stdexcept>

#include "bgp/message_wire.h"

namespace cpp::bgp {
namespace wire {

namespace {

// Smallest valid length per type (RFC 4271 §4.2-4.5, RFC 2918 §3).
size_t min_length(uint8_t type) {
  switch (static_cast<MessageType>(type)) {
    case MessageType::Open: return 29;
    case MessageType::Update: return 23;
    case MessageType::Notification: return 21;
    case MessageType::Keepalive: return 19;
    case MessageType::RouteRefresh: return 23;
  }
  return 0;
}

}  // namespace

std::optional<DecodeError> check_header(const uint8_t* buf) {
  for (size_t i = 0; i < 16; ++i) {
    if (buf[i] != 0xff) return fail(err::kHeader, err::kConnectionNotSynchronized, "header: marker is not all ones");
  }
  uint16_t len = static_cast<uint16_t>((buf[16] << 8) | buf[17]);
  uint8_t type = buf[18];
  // RFC 4271 §6.1: Bad Message Length carries the erroneous Length field.
  if (len < kHeaderLen || len > kMaxMessageLen)
    return fail(err::kHeader, err::kBadMessageLength,
                "header: length " + std::to_string(len) + " outside 19..4096", be16(len));
  size_t min = min_length(type);
  if (min == 0)
    return fail(err::kHeader, err::kBadMessageType, "header: unknown message type " + std::to_string(type),
                Bytes{type});
  bool exact = static_cast<MessageType>(type) == MessageType::Keepalive;
  if (len < min || (exact && len != min))
    return fail(err::kHeader, err::kBadMessageLength,
                "header: length " + std::to_string(len) + " invalid for message type " + std::to_string(type),
                be16(len));
  return std::nullopt;
}

}  // namespace wire

std::variant<std::monostate, size_t, DecodeError> frame_length(const uint8_t* buf, size_t len) {
  if (len < kHeaderLen) return std::monostate{};
  if (auto e = wire::check_header(buf)) return *e;
  return static_cast<size_t>((buf[16] << 8) | buf[17]);
}

std::variant<Message, DecodeError> decode(const uint8_t* buf, size_t len, const DecodeContext& ctx) {
  if (len < kHeaderLen)
    return wire::fail(err::kHeader, err::kBadMessageLength,
                      "header: " + std::to_string(len) + " bytes, shorter than a header");
  if (auto e = wire::check_header(buf)) return *e;
  size_t declared = static_cast<size_t>((buf[16] << 8) | buf[17]);
  if (declared != len)
    return wire::fail(err::kHeader, err::kBadMessageLength,
                      "header: length field " + std::to_string(declared) + " but " + std::to_string(len) +
                          " bytes given",
                      wire::be16(static_cast<uint16_t>(declared)));
  wire::Reader body{buf + kHeaderLen, buf + len};
  switch (static_cast<MessageType>(buf[18])) {
    case MessageType::Open: return wire::decode_open(body);
    case MessageType::Update: return wire::decode_update(body, ctx);
    case MessageType::Notification: return wire::decode_notification(body);
    case MessageType::Keepalive: return Message{Keepalive{}};
    case MessageType::RouteRefresh:
      // RFC 7313 §5: the whole message goes back as data.
      if (len != 23)
        return wire::fail(err::kRouteRefresh, err::kInvalidRouteRefreshLength,
                          "ROUTE-REFRESH: length " + std::to_string(len) + ", expected 23", Bytes(buf, buf + len));
      return wire::decode_route_refresh(body);
  }
  return wire::fail(err::kHeader, err::kBadMessageType, "header: unknown message type", Bytes{buf[18]});
}

namespace {

struct BodyEncoder {
  const DecodeContext& ctx;
  Bytes& b;
  MessageType operator()(const Open& o) {
    wire::encode_open_body(b, o);
    return MessageType::Open;
  }
  MessageType operator()(const Update& u) {
    wire::encode_update_body(b, u, ctx);
    return MessageType::Update;
  }
  MessageType operator()(const Notification& n) {
    wire::put8(b, n.code);
    wire::put8(b, n.subcode);
    wire::put(b, n.data);
    return MessageType::Notification;
  }
  MessageType operator()(const Keepalive&) { return MessageType::Keepalive; }
  MessageType operator()(const RouteRefresh& r) {
    wire::put16(b, static_cast<uint16_t>(r.family.afi));
    wire::put8(b, r.subtype);
    wire::put8(b, static_cast<uint8_t>(r.family.safi));
    return MessageType::RouteRefresh;
  }
};

}  // namespace

Bytes encode(const Message& m, const DecodeContext& ctx) {
  Bytes b(kHeaderLen, 0xff);
  MessageType type = std::visit(BodyEncoder{ctx, b}, m);
  if (b.size() > kMaxMessageLen)
    throw std::invalid_argument("BGP message of " + std::to_string(b.size()) + " bytes exceeds " +
                                std::to_string(kMaxMessageLen));
  b[16] = static_cast<uint8_t>(b.size() >> 8);
  b[17] = static_cast<uint8_t>(b.size());
  b[18] = static_cast<uint8_t>(type);
  return b;
}

}  // namespace cpp::bgp
