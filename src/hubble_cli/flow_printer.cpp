#include "hubble_cli/flow_printer.h"

#include <algorithm>
#include <ctime>
#include <stdexcept>

#include <google/protobuf/util/json_util.h>

#include "hubble_cli/names.h"

namespace cpp::hubble_cli {

OutputFormat parse_output_format(const std::string& s) {
  if (s == "compact") return OutputFormat::Compact;
  if (s == "dict") return OutputFormat::Dict;
  if (s == "json") return OutputFormat::Json;
  if (s == "jsonpb") return OutputFormat::JsonPb;
  if (s == "table" || s == "tab") return OutputFormat::Table;
  throw std::invalid_argument("invalid --output value '" + s + "': expected compact, dict, json, jsonpb or table");
}

std::string format_timestamp(const google::protobuf::Timestamp& t, bool has_time) {
  if (!has_time || (t.seconds() == 0 && t.nanos() == 0)) return "N/A";
  time_t secs = static_cast<time_t>(t.seconds());
  std::tm tm{};
  gmtime_r(&secs, &tm);
  // Go's time.StampMilli: "Jan _2 15:04:05.000".
  char buf[32];
  strftime(buf, sizeof buf, "%b %e %H:%M:%S", &tm);
  char out[48];
  snprintf(out, sizeof out, "%s.%03d", buf, t.nanos() / 1000000);
  return out;
}

std::string host_port(const std::string& host, uint32_t port) {
  if (port == 0) return host;
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

namespace {

std::pair<uint32_t, uint32_t> ports(const flow::Flow& f) {
  const auto& l4 = f.l4();
  if (l4.has_tcp()) return {l4.tcp().source_port(), l4.tcp().destination_port()};
  if (l4.has_udp()) return {l4.udp().source_port(), l4.udp().destination_port()};
  if (l4.has_sctp()) return {l4.sctp().source_port(), l4.sctp().destination_port()};
  return {0, 0};
}

// Upstream's Hostname(): pod before service before the bare IP.
std::string side(const std::string& ip, uint32_t port, const flow::Endpoint& ep, const flow::Service* svc) {
  std::string host = ip;
  auto join = [](const std::string& ns, const std::string& name) { return ns.empty() ? name : ns + "/" + name; };
  if (!ep.pod_name().empty()) host = join(ep.namespace_(), ep.pod_name());
  else if (svc && !svc->name().empty()) host = join(svc->namespace_(), svc->name());
  return host_port(host, port);
}

std::string policy_list(const google::protobuf::RepeatedPtrField<flow::Policy>& ps) {
  std::string out;
  for (const auto& p : ps) {
    if (!out.empty()) out += ", ";
    out += p.namespace_().empty() ? p.name() : p.namespace_() + "/" + p.name();
    if (!p.rule().empty()) out += " " + p.rule();
  }
  return out;
}

}  // namespace

std::pair<std::string, std::string> flow_endpoints(const flow::Flow& f) {
  auto [sport, dport] = ports(f);
  return {side(f.ip().source(), sport, f.source(), f.has_source_service() ? &f.source_service() : nullptr),
          side(f.ip().destination(), dport, f.destination(),
               f.has_destination_service() ? &f.destination_service() : nullptr)};
}

std::string flow_type(const flow::Flow& f) {
  switch (f.event_type().type()) {
    case kTypeTrace: {
      std::string n = trace_point_name(f.trace_observation_point());
      return n.empty() ? "trace" : n;
    }
    case kTypeDrop:
      return drop_reason_text(f.drop_reason_desc() != flow::DROP_REASON_UNKNOWN
                                  ? static_cast<uint32_t>(f.drop_reason_desc())
                                  : static_cast<uint32_t>(f.event_type().sub_type()));
    case kTypePolicyVerdict:
      return "policy-verdict:" + match_type_name(f.policy_match_type()) + " " +
             flow::TrafficDirection_Name(f.traffic_direction());
    case kTypeTraceSock:
      return xlate_point_name(f.sock_xlate_point());
    default:
      return "UNKNOWN";
  }
}

std::string flow_verdict(const flow::Flow& f) {
  bool pv = f.event_type().type() == kTypePolicyVerdict;
  switch (f.verdict()) {
    case flow::FORWARDED:
    case flow::REDIRECTED:
      if (pv) return "ALLOWED";
      break;
    case flow::DROPPED:
    case flow::ERROR:
      if (pv) return "DENIED";
      break;
    case flow::AUDIT:
      if (pv) return "AUDITED";
      break;
    default:
      break;
  }
  return flow::Verdict_Name(f.verdict());
}

std::string flow_summary(const flow::Flow& f) {
  if (!f.summary().empty()) return f.summary();
  const auto& l4 = f.l4();
  if (l4.has_tcp()) return "TCP Flags: " + tcp_flags_text(l4.tcp().flags());
  if (l4.has_udp()) return "UDP";
  if (l4.has_sctp()) return "SCTP";
  if (l4.has_icmpv4()) return "ICMPv4 type " + std::to_string(l4.icmpv4().type());
  if (l4.has_icmpv6()) return "ICMPv6 type " + std::to_string(l4.icmpv6().type());
  return "";
}

std::string flow_policies(const flow::Flow& f) {
  bool denied = f.verdict() == flow::DROPPED || f.verdict() == flow::ERROR;
  std::string in = policy_list(denied ? f.ingress_denied_by() : f.ingress_allowed_by());
  std::string eg = policy_list(denied ? f.egress_denied_by() : f.egress_allowed_by());
  if (in.empty()) return eg;
  if (eg.empty()) return in;
  return "ingress " + in + "; egress " + eg;
}

std::string to_json_line(const google::protobuf::Message& m) {
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  std::string s;
  auto st = google::protobuf::util::MessageToJsonString(m, &s, o);
  if (!st.ok()) throw std::runtime_error("cannot encode a " + m.GetTypeName() + " as JSON: " + st.ToString());
  return s;
}

void FlowPrinter::write(const observer::GetFlowsResponse& r) {
  if (opts_.format == OutputFormat::Json || opts_.format == OutputFormat::JsonPb) {
    out_ << to_json_line(r) << "\n" << std::flush;
    return;
  }
  if (r.has_flow()) write_flow(r);
  else if (r.has_lost_events()) write_lost(r);
}

void FlowPrinter::write_lost(const observer::GetFlowsResponse& r) {
  // Lost events are never silent: they go into the stream where flows go.
  const auto& l = r.lost_events();
  std::string line = format_timestamp(r.time(), r.has_time()) + ": EVENTS LOST: " +
                     flow::LostEventSource_Name(l.source()) +
                     (l.has_cpu() ? " CPU(" + std::to_string(l.cpu().value()) + ")" : "") + " " +
                     std::to_string(l.num_events_lost());
  if (opts_.format == OutputFormat::Table) {
    rows_.push_back({line});
    return;
  }
  if (opts_.format == OutputFormat::Dict && written_++ > 0) out_ << "------------\n";
  out_ << line << "\n" << std::flush;
}

void FlowPrinter::write_flow(const observer::GetFlowsResponse& r) {
  const flow::Flow& f = r.flow();
  auto [src, dst] = flow_endpoints(f);
  std::string ts = format_timestamp(f.time(), f.has_time());
  std::string policy = flow_policies(f);
  switch (opts_.format) {
    case OutputFormat::Compact: {
      std::string src_id = identity_label(f.source().identity());
      std::string dst_id = identity_label(f.destination().identity());
      std::string arrow = "->";
      if (!f.has_is_reply()) {
        arrow = "<>";
      } else if (f.is_reply().value()) {
        std::swap(src, dst);
        std::swap(src_id, dst_id);
        arrow = "<-";
      }
      out_ << ts << (opts_.node_name ? " [" + f.node_name() + "]" : "") << ": " << src << " " << src_id << " "
           << arrow << " " << dst << " " << dst_id << " " << flow_type(f) << " " << flow_verdict(f) << " ("
           << flow_summary(f) << ")" << (policy.empty() ? "" : " policy: " + policy) << "\n"
           << std::flush;
      break;
    }
    case OutputFormat::Dict:
      if (written_ > 0) out_ << "------------\n";
      out_ << "  TIMESTAMP: " << ts << "\n";
      if (opts_.node_name) out_ << "       NODE: " << f.node_name() << "\n";
      out_ << "     SOURCE: " << src << "\n"
           << "DESTINATION: " << dst << "\n"
           << "       TYPE: " << flow_type(f) << "\n"
           << "    VERDICT: " << flow_verdict(f) << "\n"
           << "    SUMMARY: " << flow_summary(f) << "\n";
      if (!policy.empty()) out_ << "     POLICY: " << policy << "\n";
      out_ << std::flush;
      break;
    case OutputFormat::Table: {
      std::vector<std::string> row{ts};
      if (opts_.node_name) row.push_back(f.node_name());
      for (auto& c : {src, dst, flow_type(f), flow_verdict(f), flow_summary(f)}) row.push_back(c);
      rows_.push_back(std::move(row));
      break;
    }
    default:
      break;
  }
  ++written_;
}

void FlowPrinter::finish() {
  if (opts_.format != OutputFormat::Table || rows_.empty()) return;
  std::vector<std::string> header{"TIMESTAMP"};
  if (opts_.node_name) header.push_back("NODE");
  for (const char* h : {"SOURCE", "DESTINATION", "TYPE", "VERDICT", "SUMMARY"}) header.push_back(h);
  std::vector<size_t> width(header.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    if (row.size() != header.size()) return;  // lost-event lines span the row
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  };
  measure(header);
  for (const auto& r : rows_) measure(r);
  auto print = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size(); ++i) {
      out_ << row[i];
      if (i + 1 < row.size()) out_ << std::string(width[i] - row[i].size() + 3, ' ');
    }
    out_ << "\n";
  };
  print(header);
  for (const auto& r : rows_) print(r);
  out_ << std::flush;
  rows_.clear();
}

}  // namespace cpp::hubble_cli
