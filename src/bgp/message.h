#pragma once
// BGP-4 messages (RFC 4271) with the extensions ciliumpp speaks: 4-octet AS
// numbers (RFC 6793), multiprotocol IPv4/IPv6 unicast (RFC 4760, IPv6 next
// hops per RFC 2545), route refresh (RFC 2918), graceful restart (RFC 4724).
// Pure data and a pure codec: no sockets, no clocks.
//
// decode() never trusts its input: every length is checked, and a malformed
// message yields the NOTIFICATION (code, subcode, data) RFC 4271 §6 and
// RFC 7606 prescribe, or — for the UPDATE errors RFC 7606 downgrades — a
// decoded UPDATE marked treat_as_withdraw. The choices where RFCs leave
// room: a malformed optional parameter or capability is OPEN / Unspecific
// (2/0); MP_(UN)REACH_NLRI that is too short or overruns the attributes is
// 3/5, bad next hop length or NLRI inside it 3/9 (RFC 4760 §7); malformed
// withdrawn routes or NLRI fields 3/10; a repeated attribute other than
// MP_(UN)REACH_NLRI keeps the first (RFC 7606 §3g); an announced prefix
// with host bits set withdraws the UPDATE's routes (RFC 4271 calls the
// bits irrelevant; ciliumpp will not guess which route the peer meant).
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/ip.h"

namespace cpp::bgp {

using Bytes = std::vector<uint8_t>;

inline constexpr size_t kHeaderLen = 19;
inline constexpr size_t kMaxMessageLen = 4096;  // without RFC 8654 extended messages
inline constexpr uint16_t kAsTrans = 23456;     // RFC 6793

enum class MessageType : uint8_t { Open = 1, Update = 2, Notification = 3, Keepalive = 4, RouteRefresh = 5 };

// Address family / subsequent AFI pairs ciliumpp negotiates. Other code
// points a peer sends (in capabilities, ROUTE-REFRESH) are kept by value:
// Afi{25} is a valid, if unnamed, member.
enum class Afi : uint16_t { IPv4 = 1, IPv6 = 2 };
enum class Safi : uint8_t { Unicast = 1 };
struct Family {
  Afi afi = Afi::IPv4;
  Safi safi = Safi::Unicast;
  auto operator<=>(const Family&) const = default;
};
std::string to_string(Family f);  // "ipv4-unicast", "ipv6-unicast", else "afi-25-safi-70"

// OPEN capabilities (RFC 5492). Unknown ones are kept (code + raw value) so
// a peer's offer can be logged and answered, never silently lost.
struct GracefulRestartCap {
  bool restart_state = false;  // R bit: the sender has restarted
  uint16_t restart_time_s = 0; // 12 bits
  struct Af {
    Family family;
    bool forwarding_preserved = false;  // F bit
    bool operator==(const Af&) const = default;
  };
  std::vector<Af> families;
  bool operator==(const GracefulRestartCap&) const = default;
};
struct UnknownCap {
  uint8_t code = 0;
  Bytes value;
  bool operator==(const UnknownCap&) const = default;
};
struct Capabilities {
  std::vector<Family> multiprotocol;          // code 1
  bool route_refresh = false;                 // code 2 (and the old Cisco code 128)
  std::optional<uint32_t> four_octet_as;      // code 65: the speaker's real AS
  std::optional<GracefulRestartCap> graceful_restart;  // code 64
  std::vector<UnknownCap> unknown;
  bool operator==(const Capabilities&) const = default;
};

struct Open {
  uint8_t version = 4;
  uint16_t my_as = 0;          // kAsTrans when the real AS needs 4 octets
  uint16_t hold_time_s = 0;    // 0 or >= 3
  uint32_t bgp_id = 0;         // router ID, host order
  Capabilities caps;
  // The AS the speaker really has: the 4-octet capability, else my_as.
  uint32_t asn() const { return caps.four_octet_as.value_or(my_as); }
  bool operator==(const Open&) const = default;
};

enum class Origin : uint8_t { Igp = 0, Egp = 1, Incomplete = 2 };

struct AsPathSegment {
  // Confederation segments (RFC 5065) are decoded so they can be logged;
  // ciliumpp never sends them.
  enum class Type : uint8_t { Set = 1, Sequence = 2, ConfedSequence = 3, ConfedSet = 4 };
  Type type = Type::Sequence;
  std::vector<uint32_t> asns;  // always 4-octet in memory; 1..255 per segment on the wire
  bool operator==(const AsPathSegment&) const = default;
};

// Path attributes ciliumpp reads or writes; others are kept raw so they can
// be passed through or logged (optional transitive ones).
// flags never carry the Extended Length bit (0x10): encode() sets it when
// the value needs it.
struct RawAttribute {
  uint8_t flags = 0;
  uint8_t type = 0;
  Bytes value;
  bool operator==(const RawAttribute&) const = default;
};
struct PathAttributes {
  std::optional<Origin> origin;                  // type 1
  std::vector<AsPathSegment> as_path;            // type 2
  std::optional<IpAddr> next_hop;                // type 3 (IPv4 NLRI)
  std::optional<uint32_t> med;                   // type 4
  std::optional<uint32_t> local_pref;            // type 5
  std::vector<uint32_t> communities;             // type 8
  // Everything else, in wire order: ATOMIC_AGGREGATE, AGGREGATOR, AS4_PATH,
  // unknown optional attributes, and MP_(UN)REACH_NLRI of families the
  // codec does not parse.
  std::vector<RawAttribute> other;
  bool operator==(const PathAttributes&) const = default;
};

// MP_REACH_NLRI (type 14) / MP_UNREACH_NLRI (type 15), decoded.
struct MpReach {
  Family family;
  IpAddr next_hop;                       // global
  std::optional<IpAddr> link_local_next_hop;  // IPv6, RFC 2545
  std::vector<IpPrefix> nlri;
  bool operator==(const MpReach&) const = default;
};
struct MpUnreach {
  Family family;
  std::vector<IpPrefix> withdrawn;
  bool operator==(const MpUnreach&) const = default;
};

struct Update {
  std::vector<IpPrefix> withdrawn;  // IPv4 unicast withdrawn routes
  PathAttributes attrs;
  std::optional<MpReach> mp_reach;
  std::optional<MpUnreach> mp_unreach;
  std::vector<IpPrefix> nlri;       // IPv4 unicast NLRI
  // RFC 7606: the UPDATE was malformed in a way that withdraws its routes
  // instead of resetting the session; reason says what. Every prefix in
  // nlri and mp_reach->nlri is then to be treated as withdrawn (the
  // attributes hold whatever parsed; the malformed one is absent).
  bool treat_as_withdraw = false;
  std::string treat_as_withdraw_reason;
  // End-of-RIB marker (RFC 4724): an empty UPDATE (IPv4) or an MP_UNREACH
  // with no prefixes (other families).
  std::optional<Family> end_of_rib() const;
  static Update end_of_rib_marker(Family f);
  bool operator==(const Update&) const = default;
};

struct Notification {
  uint8_t code = 0;
  uint8_t subcode = 0;
  Bytes data;
  std::string str() const;  // "OPEN Message Error / Bad Peer AS"
  bool operator==(const Notification&) const = default;
};

struct Keepalive {
  bool operator==(const Keepalive&) const = default;
};

struct RouteRefresh {
  Family family;
  uint8_t subtype = 0;  // RFC 7313: 0 request, 1 BoRR, 2 EoRR
  bool operator==(const RouteRefresh&) const = default;
};

using Message = std::variant<Open, Update, Notification, Keepalive, RouteRefresh>;

// NOTIFICATION codes and subcodes (RFC 4271 §4.5, RFC 4486, RFC 7313).
namespace err {
inline constexpr uint8_t kHeader = 1, kOpen = 2, kUpdate = 3, kHoldTimerExpired = 4, kFsm = 5, kCease = 6,
                         kRouteRefresh = 7;
inline constexpr uint8_t kUnspecific = 0;  // any code; OPEN: a malformed optional parameter
// Message Header Error
inline constexpr uint8_t kConnectionNotSynchronized = 1, kBadMessageLength = 2, kBadMessageType = 3;
// OPEN Message Error
inline constexpr uint8_t kUnsupportedVersion = 1, kBadPeerAs = 2, kBadBgpIdentifier = 3,
                         kUnsupportedOptionalParameter = 4, kUnacceptableHoldTime = 6,
                         kUnsupportedCapability = 7;
// UPDATE Message Error
inline constexpr uint8_t kMalformedAttributeList = 1, kUnrecognizedWellKnownAttribute = 2,
                         kMissingWellKnownAttribute = 3, kAttributeFlagsError = 4, kAttributeLengthError = 5,
                         kInvalidOriginAttribute = 6, kInvalidNextHopAttribute = 8, kOptionalAttributeError = 9,
                         kInvalidNetworkField = 10, kMalformedAsPath = 11;
// Cease (RFC 4486)
inline constexpr uint8_t kMaxPrefixes = 1, kAdminShutdown = 2, kPeerDeconfigured = 3, kAdminReset = 4,
                         kConnectionRejected = 5, kOtherConfigChange = 6, kCollisionResolution = 7,
                         kOutOfResources = 8;
// ROUTE-REFRESH Message Error (RFC 7313)
inline constexpr uint8_t kInvalidRouteRefreshLength = 1;
}  // namespace err

// What the session knows when decoding: whether both sides negotiated
// 4-octet AS numbers (the AS_PATH encoding, RFC 6793).
struct DecodeContext {
  bool four_octet_as = true;
};

// A decode failure: the NOTIFICATION to send before closing.
struct DecodeError {
  Notification notification;
  std::string what;  // human reason, for the log: "UPDATE: ORIGIN value 7 is not IGP, EGP or INCOMPLETE"
};

// Length of the message at the front of buf once its header is complete
// (nullopt: need more bytes). Header errors (marker, length out of
// 19..4096) are DecodeErrors.
std::variant<std::monostate, size_t, DecodeError> frame_length(const uint8_t* buf, size_t len);

// Decodes one whole message (header included).
std::variant<Message, DecodeError> decode(const uint8_t* buf, size_t len, const DecodeContext& ctx);

// Encodes one message. UPDATEs are written with ctx.four_octet_as
// deciding the AS_PATH width (AS4_PATH is not produced: ciliumpp only
// speaks to peers that negotiate 4-octet AS numbers or uses 2-octet ASNs).
// Throws std::invalid_argument if the result would exceed kMaxMessageLen.
Bytes encode(const Message& m, const DecodeContext& ctx = {});

}  // namespace cpp::bgp
