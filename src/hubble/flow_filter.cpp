#include "hubble/flow_filter.h"

#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <functional>
#include <string_view>

#include "common/ip.h"
#include "hubble/label_query.h"

namespace cpp::hubble {

using Pred = std::function<bool(const Flow&)>;

class CompiledFilter {
 public:
  std::vector<Pred> preds;  // all must hold
  bool matches(const Flow& f) const {
    return std::all_of(preds.begin(), preds.end(), [&](const Pred& p) { return p(f); });
  }
};

namespace {

const EndpointInfo& ep_or_empty(const std::shared_ptr<const EndpointInfo>& p) {
  static const EndpointInfo kEmpty;
  return p ? *p : kEmpty;
}
const EndpointInfo& src_ep(const Flow& f) { return ep_or_empty(f.source); }
const EndpointInfo& dst_ep(const Flow& f) { return ep_or_empty(f.destination); }

// Builds one FlowFilter's predicates; every error names `where_.field[i]`.
class Compiler {
 public:
  Compiler(const flow::FlowFilter& ff, std::string where) : ff_(ff), where_(std::move(where)) {}

  std::unique_ptr<CompiledFilter> run() {
    reject_unsupported();
    ips("source_ip", ff_.source_ip(), [](const Flow& f) -> const IpAddr& { return f.src_ip; });
    ips("destination_ip", ff_.destination_ip(), [](const Flow& f) -> const IpAddr& { return f.dst_ip; });
    pods("source_pod", ff_.source_pod(), src_ep);
    pods("destination_pod", ff_.destination_pod(), dst_ep);
    labels("source_label", ff_.source_label(), src_ep);
    labels("destination_label", ff_.destination_label(), dst_ep);
    services("source_service", ff_.source_service(), [](const Flow& f) { return f.source_service.get(); });
    services("destination_service", ff_.destination_service(),
             [](const Flow& f) { return f.destination_service ? &*f.destination_service : nullptr; });
    identities(ff_.source_identity(), src_ep);
    identities(ff_.destination_identity(), dst_ep);
    verdicts();
    drop_reasons();
    event_types();
    directions();
    protocols();
    ports("source_port", ff_.source_port(), [](const Flow& f) { return f.src_port; });
    ports("destination_port", ff_.destination_port(), [](const Flow& f) { return f.dst_port; });
    replies();
    tcp_flags();
    node_names();
    ip_versions();
    return std::move(out_);
  }

 private:
  [[noreturn]] void fail(std::string_view field, int i, const std::string& what) const {
    std::string at = where_ + "." + std::string(field);
    if (i >= 0) at += "[" + std::to_string(i) + "]";
    throw FilterError(at + ": " + what);
  }

  void add(Pred p) { out_->preds.push_back(std::move(p)); }

  // Fields of upstream's FlowFilter that ciliumpp flows never carry (L7,
  // DNS names, workloads, tracing): an error rather than a filter that
  // silently matches nothing.
  void reject_unsupported() {
    auto check = [&](std::string_view field, int n) {
      if (n > 0) fail(field, -1, "filtering on this field is not supported");
    };
    check("uuid", ff_.uuid_size());
    check("source_fqdn", ff_.source_fqdn_size());
    check("destination_fqdn", ff_.destination_fqdn_size());
    check("source_workload", ff_.source_workload_size());
    check("destination_workload", ff_.destination_workload_size());
    check("http_status_code", ff_.http_status_code_size());
    check("dns_query", ff_.dns_query_size());
    check("http_method", ff_.http_method_size());
    check("http_path", ff_.http_path_size());
    check("trace_id", ff_.trace_id_size());
  }

  template <typename Get>
  void ips(std::string_view field, const google::protobuf::RepeatedPtrField<std::string>& vals, Get get) {
    if (vals.empty()) return;
    std::vector<IpPrefix> prefixes;
    for (int i = 0; i < vals.size(); ++i) {
      const std::string& v = vals[i];
      if (v.find('/') != std::string::npos) {
        auto p = IpPrefix::parse(v, true);
        if (!p) fail(field, i, "\"" + v + "\" is not an IP address or CIDR");
        // Host bits are allowed, as upstream's prefix parsing does.
        prefixes.push_back(*p);
      } else {
        auto a = IpAddr::parse(v);
        if (!a) fail(field, i, "\"" + v + "\" is not an IP address or CIDR");
        prefixes.push_back(IpPrefix{*a, a->bits()});
      }
    }
    add([prefixes = std::move(prefixes), get](const Flow& f) {
      const IpAddr& a = get(f);
      return std::any_of(prefixes.begin(), prefixes.end(), [&](const IpPrefix& p) { return p.contains(a); });
    });
  }

  struct NamePattern {
    std::string ns;      // empty: any namespace
    std::string prefix;  // name prefix; empty: every name
  };

  // "ns/name-prefix", "ns/" (the whole namespace) or "name-prefix" (any namespace).
  std::vector<NamePattern> name_patterns(std::string_view field,
                                         const google::protobuf::RepeatedPtrField<std::string>& vals) {
    std::vector<NamePattern> out;
    for (int i = 0; i < vals.size(); ++i) {
      const std::string& v = vals[i];
      NamePattern p;
      auto slash = v.find('/');
      if (slash == std::string::npos) {
        p.prefix = v;
      } else {
        p.ns = v.substr(0, slash);
        p.prefix = v.substr(slash + 1);
        if (p.ns.empty()) fail(field, i, "\"" + v + "\" has an empty namespace (want [namespace/][name-prefix])");
        if (p.prefix.find('/') != std::string::npos)
          fail(field, i, "\"" + v + "\" has more than one '/' (want [namespace/][name-prefix])");
      }
      if (p.ns.empty() && p.prefix.empty()) fail(field, i, "empty name (want [namespace/][name-prefix])");
      out.push_back(std::move(p));
    }
    return out;
  }

  static bool name_match(const std::vector<NamePattern>& pats, const std::string& ns, const std::string& name) {
    return std::any_of(pats.begin(), pats.end(), [&](const NamePattern& p) {
      if (!p.ns.empty() && p.ns != ns) return false;
      if (p.ns.empty() && name.empty()) return false;  // a bare prefix names something
      return name.compare(0, p.prefix.size(), p.prefix) == 0;
    });
  }

  void pods(std::string_view field, const google::protobuf::RepeatedPtrField<std::string>& vals,
            const EndpointInfo& (*ep)(const Flow&)) {
    if (vals.empty()) return;
    add([pats = name_patterns(field, vals), ep](const Flow& f) {
      const EndpointInfo& e = ep(f);
      return name_match(pats, e.namespace_, e.pod_name);
    });
  }

  template <typename Get>
  void services(std::string_view field, const google::protobuf::RepeatedPtrField<std::string>& vals, Get get) {
    if (vals.empty()) return;
    add([pats = name_patterns(field, vals), get](const Flow& f) {
      const ServiceRef* s = get(f);
      return s && name_match(pats, s->namespace_, s->name);
    });
  }

  void labels(std::string_view field, const google::protobuf::RepeatedPtrField<std::string>& vals,
              const EndpointInfo& (*ep)(const Flow&)) {
    if (vals.empty()) return;
    std::vector<LabelQuery> qs;
    for (int i = 0; i < vals.size(); ++i) {
      try {
        qs.push_back(LabelQuery::parse(vals[i]));
      } catch (const std::invalid_argument& e) {
        fail(field, i, e.what());
      }
    }
    add([qs = std::move(qs), ep](const Flow& f) {
      const auto& ls = ep(f).labels;
      return std::any_of(qs.begin(), qs.end(), [&](const LabelQuery& q) { return q.matches(ls); });
    });
  }

  void identities(const google::protobuf::RepeatedField<uint32_t>& vals, const EndpointInfo& (*ep)(const Flow&)) {
    if (vals.empty()) return;
    add([ids = std::vector<uint32_t>(vals.begin(), vals.end()), ep](const Flow& f) {
      return std::find(ids.begin(), ids.end(), ep(f).identity) != ids.end();
    });
  }

  void verdicts() {
    const auto& vals = ff_.verdict();
    if (vals.empty()) return;
    std::vector<Verdict> vs;
    for (int i = 0; i < vals.size(); ++i) {
      if (!flow::Verdict_IsValid(vals[i])) fail("verdict", i, "unknown verdict " + std::to_string(vals[i]));
      vs.push_back(static_cast<Verdict>(vals[i]));
    }
    add([vs](const Flow& f) { return std::find(vs.begin(), vs.end(), f.verdict) != vs.end(); });
  }

  void drop_reasons() {
    const auto& vals = ff_.drop_reason_desc();
    if (vals.empty()) return;
    std::vector<int> rs;
    for (int i = 0; i < vals.size(); ++i) {
      if (!flow::DropReason_IsValid(vals[i])) fail("drop_reason_desc", i, "unknown drop reason " + std::to_string(vals[i]));
      rs.push_back(vals[i]);
    }
    add([rs](const Flow& f) { return std::find(rs.begin(), rs.end(), f.drop_reason) != rs.end(); });
  }

  void event_types() {
    const auto& vals = ff_.event_type();
    if (vals.empty()) return;
    std::vector<flow::EventTypeFilter> ts(vals.begin(), vals.end());
    add([ts = std::move(ts)](const Flow& f) {
      return std::any_of(ts.begin(), ts.end(), [&](const flow::EventTypeFilter& t) {
        return t.type() == f.event_type && (!t.match_sub_type() || t.sub_type() == f.event_sub_type);
      });
    });
  }

  void directions() {
    const auto& vals = ff_.traffic_direction();
    if (vals.empty()) return;
    std::vector<TrafficDirection> ds;
    for (int i = 0; i < vals.size(); ++i) {
      if (!flow::TrafficDirection_IsValid(vals[i]))
        fail("traffic_direction", i, "unknown traffic direction " + std::to_string(vals[i]));
      ds.push_back(static_cast<TrafficDirection>(vals[i]));
    }
    add([ds](const Flow& f) { return std::find(ds.begin(), ds.end(), f.traffic_direction) != ds.end(); });
  }

  void protocols() {
    const auto& vals = ff_.protocol();
    if (vals.empty()) return;
    // IP protocol numbers a flow may have; upstream's L7 names are valid
    // and match nothing (ciliumpp has no L7 flows).
    std::vector<uint8_t> ps;
    for (int i = 0; i < vals.size(); ++i) {
      std::string p = vals[i];
      std::transform(p.begin(), p.end(), p.begin(), [](unsigned char c) { return std::tolower(c); });
      if (p == "tcp") {
        ps.push_back(IPPROTO_TCP);
      } else if (p == "udp") {
        ps.push_back(IPPROTO_UDP);
      } else if (p == "sctp") {
        ps.push_back(IPPROTO_SCTP);
      } else if (p == "icmp") {
        ps.push_back(IPPROTO_ICMP);
        ps.push_back(IPPROTO_ICMPV6);
      } else if (p == "icmpv4") {
        ps.push_back(IPPROTO_ICMP);
      } else if (p == "icmpv6") {
        ps.push_back(IPPROTO_ICMPV6);
      } else if (p != "http" && p != "dns" && p != "kafka") {
        fail("protocol", i, "unknown protocol \"" + vals[i] + "\" (tcp, udp, sctp, icmp, icmpv4, icmpv6, http, dns, kafka)");
      }
    }
    add([ps](const Flow& f) { return std::find(ps.begin(), ps.end(), f.protocol) != ps.end(); });
  }

  static bool has_ports(const Flow& f) {
    return f.protocol == IPPROTO_TCP || f.protocol == IPPROTO_UDP || f.protocol == IPPROTO_SCTP;
  }

  template <typename Get>
  void ports(std::string_view field, const google::protobuf::RepeatedPtrField<std::string>& vals, Get get) {
    if (vals.empty()) return;
    std::vector<uint16_t> ps;
    for (int i = 0; i < vals.size(); ++i) {
      const std::string& v = vals[i];
      unsigned n = 0;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (v.empty() || ec != std::errc() || end != v.data() + v.size() || n > 65535)
        fail(field, i, "\"" + v + "\" is not a port number (0-65535)");
      ps.push_back(static_cast<uint16_t>(n));
    }
    add([ps, get](const Flow& f) { return has_ports(f) && std::find(ps.begin(), ps.end(), get(f)) != ps.end(); });
  }

  void replies() {
    const auto& vals = ff_.reply();
    if (vals.empty()) return;
    std::vector<bool> rs(vals.begin(), vals.end());
    // A flow whose direction is unknown matches neither true nor false.
    add([rs](const Flow& f) { return f.is_reply && std::find(rs.begin(), rs.end(), *f.is_reply) != rs.end(); });
  }

  void tcp_flags() {
    const auto& vals = ff_.tcp_flags();
    if (vals.empty()) return;
    // A filter's flags all have to be set in the flow; NS is not in the
    // flags byte ciliumpp carries, so a filter asking for it never matches.
    std::vector<std::pair<uint8_t, bool>> masks;
    for (const auto& t : vals) {
      uint8_t m = (t.fin() ? 0x01 : 0) | (t.syn() ? 0x02 : 0) | (t.rst() ? 0x04 : 0) | (t.psh() ? 0x08 : 0) |
                  (t.ack() ? 0x10 : 0) | (t.urg() ? 0x20 : 0) | (t.ece() ? 0x40 : 0) | (t.cwr() ? 0x80 : 0);
      masks.emplace_back(m, t.ns());
    }
    add([masks](const Flow& f) {
      if (f.protocol != IPPROTO_TCP) return false;
      return std::any_of(masks.begin(), masks.end(),
                         [&](const auto& m) { return !m.second && (f.tcp_flags & m.first) == m.first; });
    });
  }

  void node_names() {
    const auto& vals = ff_.node_name();
    if (vals.empty()) return;
    struct Pat {
      std::string cluster, node;  // cluster empty: any cluster
    };
    std::vector<Pat> pats;
    for (int i = 0; i < vals.size(); ++i) {
      const std::string& v = vals[i];
      Pat p;
      auto slash = v.find('/');
      if (slash == std::string::npos) {
        p.node = v;
      } else {
        p.cluster = v.substr(0, slash);
        p.node = v.substr(slash + 1);
        if (p.cluster.empty() || p.node.find('/') != std::string::npos)
          fail("node_name", i, "\"" + v + "\" is not a node name pattern (want [cluster/]node, '*' as wildcard)");
      }
      if (p.node.empty()) fail("node_name", i, "empty node name pattern");
      pats.push_back(std::move(p));
    }
    add([pats = std::move(pats)](const Flow& f) {
      // Flows name the node without its cluster: the cluster is "default".
      std::string_view cluster = "default", node = f.node_name;
      if (auto slash = node.find('/'); slash != std::string_view::npos) {
        cluster = node.substr(0, slash);
        node = node.substr(slash + 1);
      }
      return std::any_of(pats.begin(), pats.end(), [&](const Pat& p) {
        return (p.cluster.empty() || glob(p.cluster, cluster)) && glob(p.node, node);
      });
    });
  }

  // '*' matches any run of characters except '.', so "*.example.com"
  // stays within one DNS label as upstream's node name patterns do.
  static bool glob(std::string_view pat, std::string_view s) {
    if (pat.empty()) return s.empty();
    if (pat[0] == '*') {
      for (size_t i = 0;; ++i) {
        if (glob(pat.substr(1), s.substr(i))) return true;
        if (i >= s.size() || s[i] == '.') return false;
      }
    }
    return !s.empty() && pat[0] == s[0] && glob(pat.substr(1), s.substr(1));
  }

  void ip_versions() {
    const auto& vals = ff_.ip_version();
    if (vals.empty()) return;
    std::vector<uint8_t> vs;
    for (int i = 0; i < vals.size(); ++i) {
      switch (vals[i]) {
        case flow::IP_NOT_USED: vs.push_back(0); break;
        case flow::IPv4: vs.push_back(4); break;
        case flow::IPv6: vs.push_back(6); break;
        default: fail("ip_version", i, "unknown IP version " + std::to_string(vals[i]));
      }
    }
    add([vs](const Flow& f) { return std::find(vs.begin(), vs.end(), f.ip_version) != vs.end(); });
  }

  const flow::FlowFilter& ff_;
  std::string where_;
  std::unique_ptr<CompiledFilter> out_ = std::make_unique<CompiledFilter>();
};

std::vector<std::unique_ptr<CompiledFilter>> compile_list(
    const google::protobuf::RepeatedPtrField<flow::FlowFilter>& list, const std::string& name) {
  std::vector<std::unique_ptr<CompiledFilter>> out;
  for (int i = 0; i < list.size(); ++i)
    out.push_back(Compiler(list[i], name + "[" + std::to_string(i) + "]").run());
  return out;
}

}  // namespace

FlowFilterSet::FlowFilterSet() = default;
FlowFilterSet::~FlowFilterSet() = default;
FlowFilterSet::FlowFilterSet(FlowFilterSet&&) noexcept = default;
FlowFilterSet& FlowFilterSet::operator=(FlowFilterSet&&) noexcept = default;

FlowFilterSet FlowFilterSet::compile(const google::protobuf::RepeatedPtrField<flow::FlowFilter>& whitelist,
                                     const google::protobuf::RepeatedPtrField<flow::FlowFilter>& blacklist) {
  FlowFilterSet s;
  s.white_ = compile_list(whitelist, "whitelist");
  s.black_ = compile_list(blacklist, "blacklist");
  return s;
}

bool FlowFilterSet::matches(const Flow& f) const {
  auto hit = [&](const std::unique_ptr<CompiledFilter>& c) { return c->matches(f); };
  if (!white_.empty() && std::none_of(white_.begin(), white_.end(), hit)) return false;
  return std::none_of(black_.begin(), black_.end(), hit);
}

}  // namespace cpp::hubble
