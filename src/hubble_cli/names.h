#pragma once
// Upstream Hubble's and the monitor's human names for the numbers in a flow:
// what `hubble observe` and `cilium-dbg monitor` print.
#include <cstdint>
#include <optional>
#include <string>

#include "flow/flow.pb.h"

namespace cpp::hubble_cli {

// Upstream monitor message types (pkg/monitor/api).
inline constexpr int kTypeDrop = 1;
inline constexpr int kTypeTrace = 4;
inline constexpr int kTypePolicyVerdict = 5;
inline constexpr int kTypeTraceSock = 7;

// "drop" / "trace" / "policy-verdict" / "trace-sock" → message type; nullopt otherwise.
std::optional<int> event_type_by_name(const std::string& name);

// Upstream's text of a drop reason ("Policy denied"); the number when unknown.
std::string drop_reason_text(uint32_t reason);

// "to-endpoint"; upstream monitor numbering of trace points (0 = to-endpoint).
std::optional<int> trace_point_by_name(const std::string& name);
// Name of a flow's observation point ("to-endpoint"), "" for UNKNOWN_POINT.
std::string trace_point_name(flow::TraceObservationPoint p);

// A socket-LB trace's translation point as upstream prints it
// ("pre-xlate-fwd"); "unknown" for SOCK_XLATE_POINT_UNKNOWN.
std::string xlate_point_name(flow::SocketTranslationPoint p);

// Upstream policy match type ("L3-L4"); "unknown" outside the known range.
std::string match_type_name(uint32_t m);

// Reserved identities by name ("world" → 2), for --identity.
std::optional<uint32_t> reserved_identity_by_name(const std::string& name);
// "(ID:256)", or "(world)" for a reserved identity as upstream prints it.
std::string identity_label(uint32_t identity);

// TCP flags as upstream lists them ("SYN, ACK"): SYN ACK RST FIN PSH URG ECE CWR NS.
std::string tcp_flags_text(const flow::TCPFlags& f, const char* sep = ", ");

}  // namespace cpp::hubble_cli
