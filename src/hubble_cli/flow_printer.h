#pragma once
// How `hubble observe` prints GetFlows answers, in upstream's shapes:
//   compact: "Nov 26 22:01:02.123: front/fe:41234 (ID:256) -> back/be:8080 (ID:258)
//             policy-verdict:L3-L4 INGRESS ALLOWED (TCP Flags: SYN)"
//   dict:    "  TIMESTAMP: ..." key/value blocks separated by "------------"
//   json / jsonpb: the GetFlowsResponse as protobuf JSON (proto field
//            names), one object per line
//   table:   aligned columns under a header, written by finish()
// compact and dict also name the policy that allowed or denied the flow
// (" policy: ns/name"), when the server knows it.
#include <ostream>
#include <string>
#include <vector>

#include "observer/observer.pb.h"

namespace cpp::hubble_cli {

enum class OutputFormat { Compact, Dict, Json, JsonPb, Table };

// "compact" | "dict" | "json" | "jsonpb" | "table"; throws std::invalid_argument.
OutputFormat parse_output_format(const std::string& s);

// Pieces of a flow shared by the formats (exposed for tests and for
// cilium-dbg monitor).
std::string format_timestamp(const google::protobuf::Timestamp& t, bool has_time);  // "Nov 26 22:01:02.123" (UTC)
std::string host_port(const std::string& ip, uint32_t port);                         // "[::1]:80", "10.0.0.1"
std::string flow_type(const flow::Flow& f);        // "to-endpoint", "Policy denied", "policy-verdict:L3-L4 INGRESS"
std::string flow_verdict(const flow::Flow& f);     // "FORWARDED"; policy verdicts "ALLOWED"/"DENIED"/"AUDITED"
std::string flow_summary(const flow::Flow& f);     // Summary, or computed ("TCP Flags: SYN", "UDP")
std::string flow_policies(const flow::Flow& f);    // "back/backend-allow", "" when none is known
// Source and destination as "ns/pod:port" (or ip:port, or ns/service).
std::pair<std::string, std::string> flow_endpoints(const flow::Flow& f);
// Protobuf JSON, proto field names, one line.
std::string to_json_line(const google::protobuf::Message& m);

struct PrintOptions {
  OutputFormat format = OutputFormat::Compact;
  bool node_name = false;  // --print-node-name
};

class FlowPrinter {
 public:
  FlowPrinter(std::ostream& out, PrintOptions opts) : out_(out), opts_(opts) {}
  void write(const observer::GetFlowsResponse& r);
  // Flushes what is buffered (the table).
  void finish();

 private:
  void write_flow(const observer::GetFlowsResponse& r);
  void write_lost(const observer::GetFlowsResponse& r);

  std::ostream& out_;
  PrintOptions opts_;
  size_t written_ = 0;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace cpp::hubble_cli
