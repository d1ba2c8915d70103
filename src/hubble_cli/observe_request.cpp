#include "hubble_cli/observe_request.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <stdexcept>

#include <google/protobuf/util/message_differencer.h>
#include <google/protobuf/util/time_util.h>

#include "hubble_cli/names.h"

namespace cpp::hubble_cli {

namespace {

using flow::FlowFilter;
using Update = std::function<void(FlowFilter&)>;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}
std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

[[noreturn]] void bad(const std::string& flag, const std::string& value, const std::string& why) {
  throw std::invalid_argument("invalid --" + flag + " value '" + value + "': " + why);
}

// One of whitelist / blacklist: the result is `left OR right`; a
// direction-less flag writes source fields into left and destination
// fields into right, every other flag writes both.
struct Tracker {
  std::optional<FlowFilter> left, right;
  std::vector<std::string> changed;

  void apply_left(const Update& u) {
    if (!left) left.emplace();
    u(*left);
  }
  void apply_right(const Update& u) {
    if (!right) right.emplace();
    u(*right);
  }
  void apply(const Update& u) {
    apply_left(u);
    apply_right(u);
  }
  void into(google::protobuf::RepeatedPtrField<FlowFilter>* out) const {
    if (left && right && google::protobuf::util::MessageDifferencer::Equals(*left, *right)) {
      *out->Add() = *left;
      return;
    }
    if (left) *out->Add() = *left;
    if (right) *out->Add() = *right;
  }
};

// Upstream's groups of flags that cannot be used together in one list.
const std::vector<std::vector<std::string>>& conflicts() {
  static const std::vector<std::vector<std::string>> kGroups{
      {"from-ip", "from-namespace", "from-pod", "ip", "namespace", "pod"},
      {"to-ip", "to-namespace", "to-pod", "ip", "namespace", "pod"},
      {"label", "from-label"},
      {"label", "to-label"},
      {"port", "to-port"},
      {"port", "from-port"},
      {"identity", "to-identity"},
      {"identity", "from-identity"},
  };
  return kGroups;
}

void check_conflict(const Tracker& t) {
  auto has = [&](const std::string& n) { return std::find(t.changed.begin(), t.changed.end(), n) != t.changed.end(); };
  for (const auto& group : conflicts())
    for (const auto& a : group)
      if (has(a))
        for (const auto& b : group)
          if (a != b && has(b)) throw std::invalid_argument("filters --" + a + " and --" + b + " cannot be combined");
}

std::string check_port(const std::string& flag, const std::string& v) {
  if (v.empty() || v.size() > 5 || !std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c); }) ||
      std::stoul(v) > 65535)
    bad(flag, v, "expected a port number 0-65535");
  return std::to_string(std::stoul(v));
}

std::string check_ip(const std::string& flag, const std::string& v) {
  auto slash = v.find('/');
  std::string addr = v.substr(0, slash);
  unsigned char buf[16];
  int max_len;
  if (inet_pton(AF_INET, addr.c_str(), buf) == 1) max_len = 32;
  else if (inet_pton(AF_INET6, addr.c_str(), buf) == 1) max_len = 128;
  else bad(flag, v, "expected an IP address or CIDR");
  if (slash != std::string::npos) {
    std::string len = v.substr(slash + 1);
    if (len.empty() || len.size() > 3 ||
        !std::all_of(len.begin(), len.end(), [](unsigned char c) { return std::isdigit(c); }) ||
        std::stoi(len) > max_len)
      bad(flag, v, "bad prefix length");
  }
  return v;
}

uint32_t check_identity(const std::string& flag, const std::string& v) {
  if (auto r = reserved_identity_by_name(v)) return *r;
  if (v.empty() || v.size() > 10 || !std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c); }) ||
      std::stoull(v) > UINT32_MAX)
    bad(flag, v, "expected a numeric security identity or a reserved name (host, world, health, ...)");
  return static_cast<uint32_t>(std::stoul(v));
}

std::string check_protocol(const std::string& v) {
  static const std::vector<std::string> kProtocols{"tcp", "udp", "sctp", "icmp", "icmpv4", "icmpv6"};
  std::string p = lower(v);
  if (std::find(kProtocols.begin(), kProtocols.end(), p) == kProtocols.end())
    bad("protocol", v, "expected one of tcp, udp, sctp, icmp, icmpv4, icmpv6");
  return p;
}

flow::Verdict check_verdict(const std::string& v) {
  flow::Verdict out;
  if (!flow::Verdict_Parse(upper(v), &out) || out == flow::VERDICT_UNKNOWN)
    bad("verdict", v, "expected one of FORWARDED, DROPPED, AUDIT, ERROR, REDIRECTED, TRACED, TRANSLATED");
  return out;
}

flow::IPVersion check_ip_version(const std::string& v) {
  std::string s = lower(v);
  if (s == "4" || s == "v4" || s == "ipv4" || s == "ip4") return flow::IPv4;
  if (s == "6" || s == "v6" || s == "ipv6" || s == "ip6") return flow::IPv6;
  bad("ip-version", v, "expected 4 or 6");
}

flow::TCPFlags check_tcp_flags(const std::string& v) {
  flow::TCPFlags f;
  size_t start = 0;
  while (start <= v.size()) {
    size_t comma = v.find(',', start);
    std::string name = upper(v.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (name == "SYN") f.set_syn(true);
    else if (name == "ACK") f.set_ack(true);
    else if (name == "RST") f.set_rst(true);
    else if (name == "FIN") f.set_fin(true);
    else if (name == "PSH") f.set_psh(true);
    else if (name == "URG") f.set_urg(true);
    else if (name == "ECE") f.set_ece(true);
    else if (name == "CWR") f.set_cwr(true);
    else if (name == "NS") f.set_ns(true);
    else bad("tcp-flags", v, "unknown TCP flag '" + name + "' (SYN, ACK, RST, FIN, PSH, URG, ECE, CWR, NS)");
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return f;
}

flow::EventTypeFilter check_type(const std::string& v) {
  auto colon = v.find(':');
  std::string name = v.substr(0, colon);
  flow::EventTypeFilter f;
  auto t = event_type_by_name(name);
  if (!t) bad("type", v, "expected drop, trace, policy-verdict or trace-sock (trace:<point> e.g. trace:to-endpoint)");
  f.set_type(*t);
  if (colon != std::string::npos) {
    std::string sub = v.substr(colon + 1);
    auto point = *t == kTypeTrace ? trace_point_by_name(sub) : std::nullopt;
    if (!point) {
      if (sub.empty() || sub.size() > 3 || !std::all_of(sub.begin(), sub.end(), [](unsigned char c) { return std::isdigit(c); }))
        bad("type", v, "unknown sub-type '" + sub + "'");
      point = std::stoi(sub);
    }
    f.set_match_sub_type(true);
    f.set_sub_type(*point);
  }
  return f;
}

flow::TrafficDirection check_direction(const std::string& v) {
  std::string s = lower(v);
  if (s == "ingress") return flow::INGRESS;
  if (s == "egress") return flow::EGRESS;
  bad("traffic-direction", v, "expected ingress or egress");
}

void require_value(const std::string& flag, const std::string& v) {
  if (v.empty()) bad(flag, v, "must not be empty");
}

void set(Tracker& t, const std::string& name, const std::string& v) {
  t.changed.push_back(name);
  check_conflict(t);
  auto both = [&](auto src, auto dst) {
    t.apply_left([&](FlowFilter& f) { src(f); });
    t.apply_right([&](FlowFilter& f) { dst(f); });
  };
  auto all = [&](auto u) { t.apply([&](FlowFilter& f) { u(f); }); };

  if (name == "pod" || name == "from-pod" || name == "to-pod" || name == "namespace" || name == "from-namespace" ||
      name == "to-namespace" || name == "label" || name == "from-label" || name == "to-label" ||
      name == "node-name")
    require_value(name, v);

  if (name == "pod") both([&](auto& f) { f.add_source_pod(v); }, [&](auto& f) { f.add_destination_pod(v); });
  else if (name == "from-pod") all([&](auto& f) { f.add_source_pod(v); });
  else if (name == "to-pod") all([&](auto& f) { f.add_destination_pod(v); });
  // Upstream turns namespaces into pod prefixes "ns/".
  else if (name == "namespace")
    both([&](auto& f) { f.add_source_pod(v + "/"); }, [&](auto& f) { f.add_destination_pod(v + "/"); });
  else if (name == "from-namespace") all([&](auto& f) { f.add_source_pod(v + "/"); });
  else if (name == "to-namespace") all([&](auto& f) { f.add_destination_pod(v + "/"); });
  else if (name == "label") both([&](auto& f) { f.add_source_label(v); }, [&](auto& f) { f.add_destination_label(v); });
  else if (name == "from-label") all([&](auto& f) { f.add_source_label(v); });
  else if (name == "to-label") all([&](auto& f) { f.add_destination_label(v); });
  else if (name == "ip") {
    check_ip(name, v);
    both([&](auto& f) { f.add_source_ip(v); }, [&](auto& f) { f.add_destination_ip(v); });
  } else if (name == "from-ip") {
    check_ip(name, v);
    all([&](auto& f) { f.add_source_ip(v); });
  } else if (name == "to-ip") {
    check_ip(name, v);
    all([&](auto& f) { f.add_destination_ip(v); });
  } else if (name == "port") {
    auto p = check_port(name, v);
    both([&](auto& f) { f.add_source_port(p); }, [&](auto& f) { f.add_destination_port(p); });
  } else if (name == "from-port") {
    auto p = check_port(name, v);
    all([&](auto& f) { f.add_source_port(p); });
  } else if (name == "to-port") {
    auto p = check_port(name, v);
    all([&](auto& f) { f.add_destination_port(p); });
  } else if (name == "identity") {
    auto id = check_identity(name, v);
    both([&](auto& f) { f.add_source_identity(id); }, [&](auto& f) { f.add_destination_identity(id); });
  } else if (name == "from-identity") {
    auto id = check_identity(name, v);
    all([&](auto& f) { f.add_source_identity(id); });
  } else if (name == "to-identity") {
    auto id = check_identity(name, v);
    all([&](auto& f) { f.add_destination_identity(id); });
  } else if (name == "verdict") {
    auto verdict = check_verdict(v);
    all([&](auto& f) { f.add_verdict(verdict); });
  } else if (name == "protocol") {
    auto p = check_protocol(v);
    all([&](auto& f) { f.add_protocol(p); });
  } else if (name == "type") {
    auto e = check_type(v);
    all([&](auto& f) { *f.add_event_type() = e; });
  } else if (name == "traffic-direction") {
    auto d = check_direction(v);
    all([&](auto& f) { f.add_traffic_direction(d); });
  } else if (name == "node-name") {
    all([&](auto& f) { f.add_node_name(v); });
  } else if (name == "ip-version") {
    auto ipv = check_ip_version(v);
    all([&](auto& f) { f.add_ip_version(ipv); });
  } else if (name == "tcp-flags") {
    auto fl = check_tcp_flags(v);
    all([&](auto& f) { *f.add_tcp_flags() = fl; });
  } else {
    throw std::invalid_argument("unknown filter --" + name);
  }
}

google::protobuf::Timestamp to_proto(Clock::time_point t) {
  return google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

}  // namespace

const std::vector<std::string>& filter_flag_names() {
  static const std::vector<std::string> kNames{
      "pod",      "from-pod",      "to-pod",      "namespace", "from-namespace", "to-namespace",     "label",
      "from-label", "to-label",    "ip",          "from-ip",   "to-ip",          "port",             "from-port",
      "to-port",  "identity",      "from-identity", "to-identity", "verdict",    "protocol",         "type",
      "traffic-direction", "node-name", "ip-version", "tcp-flags"};
  return kNames;
}

observer::GetFlowsRequest build_request(const std::vector<FilterArg>& filters, const Selector& sel,
                                        Clock::time_point now) {
  Tracker whitelist, blacklist;
  bool negate = false;
  for (const auto& f : filters) {
    if (f.name == "not") {
      if (negate) throw std::invalid_argument("consecutive --not flags: --not negates the one filter after it");
      negate = true;
      continue;
    }
    set(negate ? blacklist : whitelist, f.name, f.value);
    negate = false;
  }
  if (negate) throw std::invalid_argument("--not must be followed by a filter flag");

  int counts = (sel.last ? 1 : 0) + (sel.first ? 1 : 0) + (sel.all ? 1 : 0);
  if (counts > 1) throw std::invalid_argument("--last, --first and --all cannot be combined");
  if (sel.first && sel.follow) throw std::invalid_argument("--first and --follow cannot be combined");
  if (counts && (!sel.since.empty() || !sel.until.empty()))
    throw std::invalid_argument(std::string(sel.last ? "--last" : sel.first ? "--first" : "--all") +
                                " cannot be combined with --since/--until: the server takes either a count or a "
                                "time range");
  if (sel.follow && !sel.until.empty()) throw std::invalid_argument("--until cannot be combined with --follow");

  observer::GetFlowsRequest req;
  whitelist.into(req.mutable_whitelist());
  blacklist.into(req.mutable_blacklist());
  req.set_follow(sel.follow);

  std::optional<Clock::time_point> since, until;
  if (!sel.since.empty()) since = parse_time_arg(sel.since, now);
  if (!sel.until.empty()) until = parse_time_arg(sel.until, now);
  // As upstream: --since alone (not following) means "from then until now".
  if (since && !until && !sel.follow) until = now;
  if (since && until && *since > *until) throw std::invalid_argument("--since is after --until");
  if (since) *req.mutable_since() = to_proto(*since);
  if (until) *req.mutable_until() = to_proto(*until);

  if (sel.first) {
    req.set_first(true);
    req.set_number(*sel.first);
  } else if (sel.last) {
    req.set_number(*sel.last);
  } else if (sel.all) {
    req.set_number(UINT64_MAX);
  } else if (!since && !until && !sel.follow) {
    req.set_number(kDefaultFlowCount);
  }
  return req;
}

}  // namespace cpp::hubble_cli
