#include "policy/types.h"

#include <arpa/inet.h>

#include <cstring>

namespace cpp::policy {

const char* to_string(Direction d) { return d == Direction::Ingress ? "ingress" : "egress"; }

std::string proto_name(uint8_t proto) {
  switch (proto) {
    case kProtoAny: return "ANY";
    case kProtoICMP: return "ICMP";
    case kProtoTCP: return "TCP";
    case kProtoUDP: return "UDP";
    case kProtoICMPv6: return "ICMPv6";
    case kProtoSCTP: return "SCTP";
  }
  return std::to_string(proto);
}

const char* to_string(EnforcementMode m) {
  switch (m) {
    case EnforcementMode::Default: return "default";
    case EnforcementMode::Always: return "always";
    case EnforcementMode::Never: return "never";
  }
  return "?";
}

EnforcementMode parse_enforcement_mode(const std::string& s) {
  if (s == "default") return EnforcementMode::Default;
  if (s == "always") return EnforcementMode::Always;
  if (s == "never") return EnforcementMode::Never;
  throw std::invalid_argument("enable-policy: \"" + s + "\" is not one of default, always, never");
}

std::string MapKey::str() const {
  std::string s = direction == CPP_DIR_INGRESS ? "ingress" : "egress";
  s += " id=" + std::to_string(identity) + " ";
  if (protocol == kProtoAny) return s + "ANY";
  if (protocol == kProtoICMP || protocol == kProtoICMPv6)
    return s + proto_name(protocol) + " type " + std::to_string(dport);
  return s + std::to_string(dport) + "/" + proto_name(protocol);
}

cpp_policy_key to_bpf_key(uint16_t ep_id, const MapKey& k) {
  cpp_policy_key b;
  std::memset(&b, 0, sizeof(b));
  b.ep_id = ep_id;
  b.direction = k.direction;
  b.protocol = k.protocol;
  b.identity = k.identity;
  b.dport = htons(k.dport);
  return b;
}

cpp_policy_value to_bpf_value(const MapValue& v) {
  cpp_policy_value b;
  std::memset(&b, 0, sizeof(b));
  b.flags = v.deny ? CPP_POLICY_F_DENY : 0;
  b.proxy_port = htons(v.proxy_port);
  b.cookie = v.cookie;
  return b;
}

MapKey from_bpf_key(const cpp_policy_key& k) {
  return MapKey{k.identity, k.direction, k.protocol, ntohs(k.dport)};
}

}  // namespace cpp::policy
