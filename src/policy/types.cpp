#include "policy/types.h"



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

}  // namespace cpp::policy
