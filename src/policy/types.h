#pragma once
// Basic policy types shared by the parser, the repository and the engine;
// directions and map-key semantics follow bpf/include/ciliumpp/abi.h.
#include <ciliumpp/abi.h>

#include <compare>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace cpp::policy {

enum class Direction : uint8_t { Ingress = CPP_DIR_INGRESS, Egress = CPP_DIR_EGRESS };
const char* to_string(Direction d);  // "ingress" / "egress"

// IP protocol numbers used in map keys; 0 = any protocol.
inline constexpr uint8_t kProtoAny = 0;
inline constexpr uint8_t kProtoICMP = 1;
inline constexpr uint8_t kProtoTCP = 6;
inline constexpr uint8_t kProtoUDP = 17;
inline constexpr uint8_t kProtoICMPv6 = 58;
inline constexpr uint8_t kProtoSCTP = 132;
// "TCP", "UDP", "SCTP", "ICMP", "ICMPv6", "ANY", or the number.
std::string proto_name(uint8_t proto);

// enable-policy
enum class EnforcementMode { Default, Always, Never };
const char* to_string(EnforcementMode m);
// "default" | "always" | "never"; throws std::invalid_argument.
EnforcementMode parse_enforcement_mode(const std::string& s);

// A policy that cannot be parsed: message is "<field path>: <reason>", e.g.
// `spec.ingress[0].toPorts[0].ports[1].port: "70000" is not a valid port`.
class PolicyError : public std::runtime_error {
 public:
  PolicyError(std::string path, std::string reason)
      : std::runtime_error(path.empty() ? reason : path + ": " + reason), path_(std::move(path)),
        reason_(std::move(reason)) {}
  const std::string& path() const { return path_; }
  const std::string& reason() const { return reason_; }

 private:
  std::string path_;
  std::string reason_;
};

// A container port with a name (Pod spec.containers[].ports[]).
struct NamedPort {
  std::string name;  // lower-case IANA service name
  uint16_t port = 0;
  uint8_t proto = kProtoTCP;
  bool operator==(const NamedPort&) const = default;
  auto operator<=>(const NamedPort&) const = default;
};
using NamedPorts = std::vector<NamedPort>;

// One policy map key of an endpoint (the endpoint id is the MapChange's).
// identity 0 = any peer, protocol 0 = any protocol, dport 0 = any port.
// dport is in host byte order; for ICMP (1) / ICMPv6 (58) it is the ICMP type.
struct MapKey {
  uint32_t identity = 0;
  uint8_t direction = CPP_DIR_INGRESS;
  uint8_t protocol = 0;
  uint16_t dport = 0;
  bool operator==(const MapKey&) const = default;
  auto operator<=>(const MapKey&) const = default;
  std::string str() const;  // "ingress id=256 6/80"
};

struct MapValue {
  bool deny = false;
  uint16_t proxy_port = 0;  // host order; 0 = no L7 redirect (reserved for the L7 proxy)
  uint32_t cookie = 0;      // rule that produced the entry (describe_cookie)
  bool operator==(const MapValue&) const = default;
};

struct MapChange {
  uint16_t ep_id = 0;
  MapKey key;
  std::optional<MapValue> value;  // nullopt = delete
  bool operator==(const MapChange&) const = default;
};

// Policy enforcement flags of an endpoint changed (CPP_EP_F_ENFORCE_*/AUDIT).
struct EnforcementChange {
  uint16_t ep_id = 0;
  bool enforce_ingress = false;
  bool enforce_egress = false;
  bool audit = false;
  bool operator==(const EnforcementChange&) const = default;
};


}  // namespace cpp::policy
