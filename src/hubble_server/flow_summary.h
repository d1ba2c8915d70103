#pragma once
// Upstream Hubble's one-line flow summary (flow.Flow.Summary): the name of
// the innermost decoded layer, "TCP Flags: SYN, ACK" for TCP and
// "ICMPv4 EchoRequest" / "ICMPv6 DestinationUnreachable(PortUnreachable)"
// for ICMP, spelled as upstream's packet decoder names them.
#include <cstdint>
#include <string>

#include "hubble/flow.h"

namespace cpp::hubble {

// "SYN, ACK": set flags in upstream's order (SYN ACK RST FIN PSH URG ECE CWR).
std::string tcp_flags_text(uint8_t flags);
// "EchoRequest", "DestinationUnreachable(Port)", "TimeExceeded(TTLExceeded)";
// unknown types as "<type>(<code>)", unknown codes as "<Type>(Code: <code>)".
std::string icmpv4_type_code_text(uint8_t type, uint8_t code);
std::string icmpv6_type_code_text(uint8_t type, uint8_t code);

std::string flow_summary(const Flow& f);

}  // namespace cpp::hubble
