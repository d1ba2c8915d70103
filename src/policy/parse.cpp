// Parsing of policy objects into the rule model (rules.h). Semantics follow
// upstream Cilium 1.15: pkg/policy/api (rule validation), pkg/k8s/apis/cilium.io/utils
// (namespace scoping), pkg/k8s/network_policy.go (NetworkPolicy translation).
#include <algorithm>
#include <cctype>
#include <set>

#include "policy/json_util.h"
#include "policy/rules.h"

namespace cpp::policy {

namespace {

constexpr size_t kMaxPorts = 40;       // upstream maxPorts per PortRule
constexpr size_t kMaxICMPFields = 40;  // upstream maxICMPFields per ICMPRule
constexpr int kMaxPortRange = 1024;    // datapath keys are exact ports: ranges are expanded

std::string idx(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

const std::string kNsKey = labels::kPodNamespaceLabel;

// ---------------------------------------------------------------------------
// Ports

// IANA service name (RFC 6335 §5.1): 1-15 of [a-z0-9-], at least one letter,
// no leading/trailing or doubled hyphen. Upstream lower-cases port names.
bool is_svc_name(const std::string& s) {
  if (s.empty() || s.size() > 15) return false;
  bool letter = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
    if (c >= 'a' && c <= 'z')
      letter = true;
    else if (c == '-') {
      if (i == 0 || i + 1 == s.size() || s[i - 1] == '-') return false;
    } else if (!(c >= '0' && c <= '9'))
      return false;
  }
  return letter;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// Appends one port spec for each protocol of `protos`.
void push_ports(std::vector<PortProto>& out, const std::vector<uint8_t>& protos, uint16_t port, uint16_t end,
                const std::string& name) {
  for (uint8_t p : protos) out.push_back(PortProto{p, port, end, name});
}

std::vector<uint8_t> expand_proto(uint8_t p) {
  if (p == kProtoAny) return {kProtoTCP, kProtoUDP, kProtoSCTP};
  return {p};
}

// Cilium PortProtocol {port (string), endPort (int), protocol}.
void parse_cilium_port(const nlohmann::json& pp, const std::string& path, std::vector<PortProto>& out) {
  expect_object(pp, path);
  check_fields(pp, path, {"port", "endPort", "protocol"});
  const auto* pj = field(pp, "port");
  if (!pj) throw PolicyError(path + ".port", "required (a port number or name; \"0\" for every port)");
  if (!pj->is_string())
    throw PolicyError(path + ".port", "must be a string (got " + type_name(*pj) + "; write \"" +
                                          (pj->is_number() ? pj->dump() : std::string("80")) + "\")");
  std::string port = pj->get<std::string>();
  if (port.empty()) throw PolicyError(path + ".port", "must not be empty (\"0\" means every port)");

  uint8_t proto = kProtoAny;
  if (const auto* prj = field(pp, "protocol")) {
    if (!prj->is_string()) throw PolicyError(path + ".protocol", "must be a string (got " + type_name(*prj) + ")");
    std::string ps = upper(prj->get<std::string>());
    if (ps == "TCP")
      proto = kProtoTCP;
    else if (ps == "UDP")
      proto = kProtoUDP;
    else if (ps == "SCTP")
      proto = kProtoSCTP;
    else if (ps == "ANY" || ps.empty())
      proto = kProtoAny;
    else if (ps == "ICMP" || ps == "ICMPV6")
      throw PolicyError(path + ".protocol", "\"" + prj->get<std::string>() +
                                                "\" is not allowed in toPorts; use an icmps rule for ICMP types");
    else
      throw PolicyError(path + ".protocol",
                        "\"" + prj->get<std::string>() + "\" is not a valid protocol (TCP, UDP, SCTP or ANY)");
  }

  bool numeric = port.find_first_not_of("0123456789") == std::string::npos;
  if (numeric) {
    if (port.size() > 5 || std::stoul(port) > 65535)
      throw PolicyError(path + ".port", "\"" + port + "\" is not a valid port");
    uint16_t p = static_cast<uint16_t>(std::stoul(port));
    uint16_t end = 0;
    if (const auto* ej = field(pp, "endPort")) {
      if (!ej->is_number_integer())
        throw PolicyError(path + ".endPort", "must be an integer (got " + type_name(*ej) + ")");
      long long e = ej->get<long long>();
      if (e < 0 || e > 65535) throw PolicyError(path + ".endPort", std::to_string(e) + " is not a valid port");
      if (e != 0 && p != 0) {
        if (e < p)
          throw PolicyError(path + ".endPort",
                            std::to_string(e) + " is less than port " + std::to_string(p));
        if (e - p + 1 > kMaxPortRange)
          throw PolicyError(path + ".endPort", "port ranges wider than " + std::to_string(kMaxPortRange) +
                                                   " ports are not supported (" + std::to_string(p) + "-" +
                                                   std::to_string(e) + " is " + std::to_string(e - p + 1) +
                                                   " ports)");
        if (e > p) end = static_cast<uint16_t>(e);
      }
    }
    push_ports(out, expand_proto(proto), p, end, "");
    return;
  }
  if (!is_svc_name(port))
    throw PolicyError(path + ".port", "\"" + port + "\" is not a valid port number or name");
  if (const auto* ej = field(pp, "endPort"); ej && !ej->is_number_integer())
    throw PolicyError(path + ".endPort", "must be an integer (got " + type_name(*ej) + ")");
  // endPort is ignored for named ports (upstream).
  push_ports(out, expand_proto(proto), 0, 0, lower(port));
}

bool l7_rules_empty(const nlohmann::json& r) {
  if (r.is_null()) return true;
  if (!r.is_object()) return false;
  for (const auto& [k, v] : r.items()) {
    if (v.is_null()) continue;
    if (v.is_array() && v.empty()) continue;
    if (v.is_string() && v.get<std::string>().empty()) continue;
    return false;
  }
  return true;
}

void parse_port_rule(const nlohmann::json& pr, const std::string& path, bool deny, std::vector<PortProto>& out) {
  expect_object(pr, path);
  if (deny)
    check_fields(pr, path, {"ports"});
  else
    check_fields(pr, path, {"ports", "rules", "terminatingTLS", "originatingTLS", "serverNames", "listener"});
  if (!deny) {
    if (const auto* r = field(pr, "rules")) {
      expect_object(*r, path + ".rules");
      check_fields(*r, path + ".rules", {"http", "kafka", "dns", "l7proto", "l7"});
      if (!l7_rules_empty(*r))
        throw PolicyError(path + ".rules", "L7 rules (http, kafka, dns, l7) are not supported yet: the L7 proxy is "
                                           "not part of this release; remove the rules to allow the port at L4");
    }
    for (const char* f : {"terminatingTLS", "originatingTLS", "listener"})
      if (field(pr, f)) throw PolicyError(path + "." + f, "is not supported yet (needs the L7 proxy)");
    if (const auto* sn = field(pr, "serverNames")) {
      expect_array(*sn, path + ".serverNames");
      if (!sn->empty()) throw PolicyError(path + ".serverNames", "is not supported yet (needs the L7 proxy)");
    }
  }
  if (const auto* ports = field(pr, "ports")) {
    expect_array(*ports, path + ".ports");
    if (ports->size() > kMaxPorts)
      throw PolicyError(path + ".ports", "too many ports, the max is " + std::to_string(kMaxPorts));
    for (size_t i = 0; i < ports->size(); ++i) parse_cilium_port((*ports)[i], idx(path + ".ports", i), out);
  }
}

struct IcmpName {
  const char* name;
  uint8_t type;
};
// Upstream ICMPField type names (pkg/policy/api/icmp.go), IANA numbers.
const IcmpName kIcmp4Names[] = {
    {"EchoReply", 0},         {"DestinationUnreachable", 3}, {"Redirect", 5},           {"Echo", 8},
    {"EchoRequest", 8},       {"RouterAdvertisement", 9},    {"RouterSelection", 10},   {"TimeExceeded", 11},
    {"ParameterProblem", 12}, {"Timestamp", 13},             {"TimestampReply", 14},    {"Photuris", 40},
    {"ExtendedEchoRequest", 42}, {"ExtendedEchoReply", 43},
};
const IcmpName kIcmp6Names[] = {
    {"DestinationUnreachable", 1},
    {"PacketTooBig", 2},
    {"TimeExceeded", 3},
    {"ParameterProblem", 4},
    {"EchoRequest", 128},
    {"EchoReply", 129},
    {"MulticastListenerQuery", 130},
    {"MulticastListenerReport", 131},
    {"MulticastListenerDone", 132},
    {"RouterSolicitation", 133},
    {"RouterAdvertisement", 134},
    {"NeighborSolicitation", 135},
    {"NeighborAdvertisement", 136},
    {"RedirectMessage", 137},
    {"RouterRenumbering", 138},
    {"ICMPNodeInformationQuery", 139},
    {"ICMPNodeInformationResponse", 140},
    {"InverseNeighborDiscoverySolicitation", 141},
    {"InverseNeighborDiscoveryAdvertisement", 142},
    {"HomeAgentAddressDiscoveryRequest", 144},
    {"HomeAgentAddressDiscoveryReply", 145},
    {"MobilePrefixSolicitation", 146},
    {"MobilePrefixAdvertisement", 147},
    {"DuplicateAddressRequestCodeSuffix", 157},
    {"DuplicateAddressConfirmationCodeSuffix", 158},
    {"ExtendedEchoRequest", 160},
    {"ExtendedEchoReply", 161},
};

void parse_icmp_rule(const nlohmann::json& ir, const std::string& path, std::vector<PortProto>& out) {
  expect_object(ir, path);
  check_fields(ir, path, {"fields"});
  const auto* fields = field(ir, "fields");
  if (!fields) return;
  expect_array(*fields, path + ".fields");
  if (fields->size() > kMaxICMPFields)
    throw PolicyError(path + ".fields", "too many types, the max is " + std::to_string(kMaxICMPFields));
  for (size_t i = 0; i < fields->size(); ++i) {
    std::string fpath = idx(path + ".fields", i);
    const auto& f = (*fields)[i];
    expect_object(f, fpath);
    check_fields(f, fpath, {"family", "type"});
    std::string family = optional_string(f, "family", fpath);
    bool v6;
    if (family.empty() || family == "IPv4")
      v6 = false;
    else if (family == "IPv6")
      v6 = true;
    else
      throw PolicyError(fpath + ".family", "\"" + family + "\" is not a valid family (IPv4 or IPv6)");
    const auto* t = field(f, "type");
    if (!t) throw PolicyError(fpath + ".type", "required");
    int type = -1;
    if (t->is_number_integer()) {
      long long v = t->get<long long>();
      if (v < 0 || v > 255) throw PolicyError(fpath + ".type", std::to_string(v) + " is not a valid ICMP type (0-255)");
      type = static_cast<int>(v);
    } else if (t->is_string()) {
      std::string s = t->get<std::string>();
      if (!s.empty() && s.size() <= 3 && s.find_first_not_of("0123456789") == std::string::npos) {
        int v = std::stoi(s);
        if (v > 255) throw PolicyError(fpath + ".type", "\"" + s + "\" is not a valid ICMP type (0-255)");
        type = v;
      } else {
        auto lookup = [&](const IcmpName* b, const IcmpName* e) {
          for (const IcmpName* n = b; n != e; ++n)
            if (s == n->name) type = n->type;
        };
        if (v6)
          lookup(std::begin(kIcmp6Names), std::end(kIcmp6Names));
        else
          lookup(std::begin(kIcmp4Names), std::end(kIcmp4Names));
        if (type < 0)
          throw PolicyError(fpath + ".type", "\"" + s + "\" is not a valid ICMP type for " +
                                                 (v6 ? "IPv6" : "IPv4"));
      }
    } else {
      throw PolicyError(fpath + ".type", "must be a number or a type name (got " + type_name(*t) + ")");
    }
    out.push_back(PortProto{v6 ? kProtoICMPv6 : kProtoICMP, static_cast<uint16_t>(type), 0, ""});
  }
}

// ---------------------------------------------------------------------------
// CIDRs

IpPrefix parse_cidr_or_ip(const nlohmann::json& j, const std::string& path) {
  if (!j.is_string()) throw PolicyError(path, "must be a string (got " + type_name(j) + ")");
  std::string s = j.get<std::string>();
  if (s.find('/') == std::string::npos) {
    if (auto a = IpAddr::parse(s)) return IpPrefix{*a, a->bits()};
    throw PolicyError(path, "\"" + s + "\" is not a valid IP address or CIDR");
  }
  auto p = IpPrefix::parse(s, true);
  if (!p) throw PolicyError(path, "\"" + s + "\" is not a valid CIDR");
  return *p;
}

IpPrefix parse_prefix(const nlohmann::json& j, const std::string& path) {
  if (!j.is_string()) throw PolicyError(path, "must be a string (got " + type_name(j) + ")");
  std::string s = j.get<std::string>();
  auto p = IpPrefix::parse(s, true);
  if (!p) throw PolicyError(path, "\"" + s + "\" is not a valid CIDR (<address>/<length>)");
  return *p;
}

bool prefix_contains(const IpPrefix& outer, const IpPrefix& inner) {
  return outer.addr.v6 == inner.addr.v6 && inner.len >= outer.len && outer.contains(inner.addr);
}

std::vector<IpPrefix> parse_excepts(const nlohmann::json& obj, const char* name, const std::string& path,
                                    const IpPrefix* within) {
  std::vector<IpPrefix> out;
  const auto* ex = field(obj, name);
  if (!ex) return out;
  std::string epath = path + "." + name;
  expect_array(*ex, epath);
  for (size_t i = 0; i < ex->size(); ++i) {
    IpPrefix e = parse_prefix((*ex)[i], idx(epath, i));
    if (within && !prefix_contains(*within, e))
      throw PolicyError(idx(epath, i), "allow CIDR prefix " + within->str() + " does not contain exclude CIDR prefix " +
                                           e.str());
    out.push_back(e);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Selectors with namespace scoping (upstream utils.go getEndpointSelector).

// Cilium policy: peers are scoped to the policy's namespace unless they name
// the namespace label (any source k8s/any) or a reserved label, or the
// rule's subject selects reserved:init. Cluster-wide policies restrict
// unscoped peers to pods of any namespace (the namespace label exists).
Selector scope_peer(Selector s, const std::string& ns, bool subject_matches_init) {
  if (s.has_source(labels::kSourceReserved)) return s;
  if (s.has_key(labels::kSourceK8s, kNsKey) || s.has_key(labels::kSourceAny, kNsKey)) return s;
  if (subject_matches_init) return s;
  if (ns.empty())
    s.add(Requirement{labels::kSourceK8s, kNsKey, SelectorOp::Exists, {}});
  else
    s.set_match(labels::kSourceK8s, kNsKey, ns);
  return s;
}

std::vector<Selector> parse_selector_list(const nlohmann::json& arr, const std::string& path, const std::string& ns,
                                          bool init) {
  expect_array(arr, path);
  std::vector<Selector> out;
  for (size_t i = 0; i < arr.size(); ++i) {
    std::string p = idx(path, i);
    if (arr[i].is_null()) throw PolicyError(p, "must be a selector mapping ({} selects every endpoint)");
    out.push_back(scope_peer(parse_selector(arr[i], p, SelectorSyntax::Cilium), ns, init));
  }
  return out;
}

// ---------------------------------------------------------------------------
// Cilium rules

struct SectionSpec {
  const char* name;
  Direction dir;
  bool deny;
};

void parse_cilium_peer_rule(const nlohmann::json& j, const std::string& path, const SectionSpec& sec,
                            const std::string& ns, bool init, PeerRule& r) {
  expect_object(j, path);
  bool in = sec.dir == Direction::Ingress;
  const char* f_eps = in ? "fromEndpoints" : "toEndpoints";
  const char* f_req = in ? "fromRequires" : "toRequires";
  const char* f_cidr = in ? "fromCIDR" : "toCIDR";
  const char* f_cset = in ? "fromCIDRSet" : "toCIDRSet";
  const char* f_ent = in ? "fromEntities" : "toEntities";
  const char* f_grp = in ? "fromGroups" : "toGroups";
  if (in && !sec.deny)
    check_fields(j, path, {"fromEndpoints", "fromRequires", "fromCIDR", "fromCIDRSet", "fromEntities", "fromGroups",
                           "toPorts", "icmps", "authentication"});
  else if (in)
    check_fields(j, path,
                 {"fromEndpoints", "fromRequires", "fromCIDR", "fromCIDRSet", "fromEntities", "fromGroups", "toPorts",
                  "icmps"});
  else if (!sec.deny)
    check_fields(j, path, {"toEndpoints", "toRequires", "toCIDR", "toCIDRSet", "toEntities", "toServices", "toFQDNs",
                           "toGroups", "toPorts", "icmps", "authentication"});
  else
    check_fields(j, path,
                 {"toEndpoints", "toRequires", "toCIDR", "toCIDRSet", "toEntities", "toServices", "toGroups",
                  "toPorts", "icmps"});

  r.dir = sec.dir;
  r.deny = sec.deny;
  r.path = path;

  // Unsupported peer kinds, with a reason rather than "unknown field".
  if (const auto* g = field(j, f_grp); g && !(g->is_array() && g->empty()))
    throw PolicyError(path + "." + f_grp, "cloud provider groups are not supported");
  if (!in) {
    if (const auto* s = field(j, "toServices"); s && !(s->is_array() && s->empty()))
      throw PolicyError(path + ".toServices", "is not supported yet; select the backend pods with toEndpoints");
    if (const auto* q = field(j, "toFQDNs"); q && !(q->is_array() && q->empty()))
      throw PolicyError(path + ".toFQDNs", "is not supported yet (needs the DNS proxy)");
  }
  if (const auto* a = field(j, "authentication")) {
    expect_object(*a, path + ".authentication");
    check_fields(*a, path + ".authentication", {"mode"});
    std::string mode = optional_string(*a, "mode", path + ".authentication");
    if (!mode.empty() && mode != "disabled")
      throw PolicyError(path + ".authentication.mode", "\"" + mode + "\" is not supported (mutual authentication)");
  }

  // L3 kinds present and non-empty; upstream rejects combining two kinds.
  std::vector<std::string> given;
  bool present_empty = false;
  for (const char* f : {f_eps, f_cidr, f_cset, f_ent}) {
    if (const auto* v = field(j, f)) {
      expect_array(*v, path + "." + f);
      if (v->empty())
        present_empty = true;
      else
        given.push_back(f);
    }
  }
  if (given.size() > 1)
    throw PolicyError(path, "combining " + given[0] + " and " + given[1] +
                                " in one rule is not supported (as upstream); write two rules");

  if (const auto* v = field(j, f_eps)) r.endpoints = parse_selector_list(*v, path + "." + f_eps, ns, init);
  if (const auto* v = field(j, f_req)) r.requires_ = parse_selector_list(*v, path + "." + f_req, ns, init);
  if (const auto* v = field(j, f_ent)) {
    std::string epath = path + "." + f_ent;
    for (size_t i = 0; i < v->size(); ++i) {
      const auto& e = (*v)[i];
      if (!e.is_string()) throw PolicyError(idx(epath, i), "must be a string (got " + type_name(e) + ")");
      std::string name = e.get<std::string>();
      const auto& known = entity_names();
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        std::string list;
        for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
        throw PolicyError(idx(epath, i), "unknown entity \"" + name + "\" (known: " + list + ")");
      }
      r.entities.push_back(name);
    }
  }
  if (const auto* v = field(j, f_cidr)) {
    std::string cpath = path + "." + f_cidr;
    for (size_t i = 0; i < v->size(); ++i) r.cidrs.push_back({parse_cidr_or_ip((*v)[i], idx(cpath, i)), {}});
  }
  if (const auto* v = field(j, f_cset)) {
    std::string spath = path + "." + f_cset;
    for (size_t i = 0; i < v->size(); ++i) {
      std::string p = idx(spath, i);
      const auto& c = (*v)[i];
      expect_object(c, p);
      check_fields(c, p, {"cidr", "except", "cidrGroupRef", "cidrGroupSelector"});
      const auto* cj = field(c, "cidr");
      const auto* gj = field(c, "cidrGroupRef");
      const auto* sj = field(c, "cidrGroupSelector");
      int n = (cj ? 1 : 0) + (gj ? 1 : 0) + (sj ? 1 : 0);
      if (n == 0) throw PolicyError(p, "one of cidr, cidrGroupRef or cidrGroupSelector is required");
      if (n > 1) throw PolicyError(p, "only one of cidr, cidrGroupRef and cidrGroupSelector may be given");
      if (cj) {
        IpPrefix pre = parse_prefix(*cj, p + ".cidr");
        r.cidrs.push_back({pre, parse_excepts(c, "except", p, &pre)});
      } else {
        CidrGroupPeer g;
        if (gj) {
          if (!gj->is_string() || gj->get<std::string>().empty())
            throw PolicyError(p + ".cidrGroupRef", "must be a non-empty string");
          g.name = gj->get<std::string>();
        } else {
          // Group labels are plain Kubernetes labels.
          g.selector = parse_selector(*sj, p + ".cidrGroupSelector", SelectorSyntax::K8sPod);
        }
        g.except = parse_excepts(c, "except", p, nullptr);
        r.cidr_groups.push_back(std::move(g));
      }
    }
  }

  const auto* tp = field(j, "toPorts");
  const auto* ic = field(j, "icmps");
  if (tp) expect_array(*tp, path + ".toPorts");
  if (ic) expect_array(*ic, path + ".icmps");
  if (tp && ic && !tp->empty() && !ic->empty())
    throw PolicyError(path, "the icmps block may only be present without toPorts (as upstream); write two rules");
  if (tp)
    for (size_t i = 0; i < tp->size(); ++i) parse_port_rule((*tp)[i], idx(path + ".toPorts", i), sec.deny, r.ports);
  if (ic)
    for (size_t i = 0; i < ic->size(); ++i) parse_icmp_rule((*ic)[i], idx(path + ".icmps", i), r.ports);
  r.has_l4 = (tp && !tp->empty()) || (ic && !ic->empty());

  bool has_peers = !given.empty();
  // A rule with an L4 part and no peer field at all applies to every peer.
  // An explicitly empty peer list selects nothing (fail closed).
  r.wildcard = !has_peers && !present_empty && r.has_l4;
}

Rule parse_cilium_rule(const nlohmann::json& spec, const std::string& path, PolicyKind kind, const std::string& ns) {
  expect_object(spec, path);
  check_fields(spec, path,
               {"endpointSelector", "nodeSelector", "ingress", "ingressDeny", "egress", "egressDeny", "labels",
                "description"});
  Rule rule;
  rule.path = path;
  rule.description = optional_string(spec, "description", path);
  const auto* es = field(spec, "endpointSelector");
  const auto* nsel = field(spec, "nodeSelector");
  if (es && nsel) throw PolicyError(path, "endpointSelector and nodeSelector cannot both be given");
  if (nsel)
    throw PolicyError(path + ".nodeSelector", "host policies (nodeSelector) are not supported: the host firewall "
                                              "is not part of this release");
  if (!es) throw PolicyError(path + ".endpointSelector", "required");
  rule.subject = parse_selector(*es, path + ".endpointSelector", SelectorSyntax::Cilium);
  bool init = rule.subject.has_key(labels::kSourceReserved, labels::kIdInit);
  if (kind == PolicyKind::CiliumNetworkPolicy && !init)
    rule.subject.set_match(labels::kSourceK8s, kNsKey, ns);

  if (const auto* l = field(spec, "labels")) {
    expect_array(*l, path + ".labels");
    for (size_t i = 0; i < l->size(); ++i) {
      std::string lp = idx(path + ".labels", i);
      expect_object((*l)[i], lp);
      check_fields((*l)[i], lp, {"key", "value", "source"});
      required_string((*l)[i], "key", lp);
      optional_string((*l)[i], "value", lp);
      optional_string((*l)[i], "source", lp);
    }
  }

  const std::string scope_ns = kind == PolicyKind::CiliumNetworkPolicy ? ns : "";
  const SectionSpec sections[] = {{"ingress", Direction::Ingress, false},
                                  {"ingressDeny", Direction::Ingress, true},
                                  {"egress", Direction::Egress, false},
                                  {"egressDeny", Direction::Egress, true}};
  for (const auto& sec : sections) {
    const auto* arr = field(spec, sec.name);
    if (!arr) continue;
    std::string spath = path + "." + sec.name;
    expect_array(*arr, spath);
    if (!arr->empty()) (sec.dir == Direction::Ingress ? rule.ingress_enforced : rule.egress_enforced) = true;
    for (size_t i = 0; i < arr->size(); ++i) {
      PeerRule pr;
      parse_cilium_peer_rule((*arr)[i], idx(spath, i), sec, scope_ns, init, pr);
      rule.peer_rules.push_back(std::move(pr));
    }
  }
  return rule;
}

// ---------------------------------------------------------------------------
// Kubernetes NetworkPolicy

void parse_k8s_port(const nlohmann::json& pj, const std::string& path, std::vector<PortProto>& out) {
  expect_object(pj, path);
  check_fields(pj, path, {"protocol", "port", "endPort"});
  uint8_t proto = kProtoTCP;
  if (const auto* p = field(pj, "protocol")) {
    if (!p->is_string()) throw PolicyError(path + ".protocol", "must be a string (got " + type_name(*p) + ")");
    std::string s = p->get<std::string>();
    if (s == "TCP")
      proto = kProtoTCP;
    else if (s == "UDP")
      proto = kProtoUDP;
    else if (s == "SCTP")
      proto = kProtoSCTP;
    else
      throw PolicyError(path + ".protocol", "\"" + s + "\" is not a valid protocol (TCP, UDP or SCTP)");
  }
  const auto* port = field(pj, "port");
  const auto* end = field(pj, "endPort");
  if (!port) {
    if (end) throw PolicyError(path + ".endPort", "may not be specified without port");
    out.push_back(PortProto{proto, 0, 0, ""});
    return;
  }
  if (port->is_number_integer()) {
    long long p = port->get<long long>();
    if (p < 1 || p > 65535) throw PolicyError(path + ".port", std::to_string(p) + " is not a valid port (1-65535)");
    uint16_t e16 = 0;
    if (end) {
      if (!end->is_number_integer())
        throw PolicyError(path + ".endPort", "must be an integer (got " + type_name(*end) + ")");
      long long e = end->get<long long>();
      if (e < p || e > 65535)
        throw PolicyError(path + ".endPort", std::to_string(e) + " must be between port and 65535");
      if (e - p + 1 > kMaxPortRange)
        throw PolicyError(path + ".endPort", "port ranges wider than " + std::to_string(kMaxPortRange) +
                                                 " ports are not supported (" + std::to_string(p) + "-" +
                                                 std::to_string(e) + " is " + std::to_string(e - p + 1) + " ports)");
      if (e > p) e16 = static_cast<uint16_t>(e);
    }
    out.push_back(PortProto{proto, static_cast<uint16_t>(p), e16, ""});
    return;
  }
  if (port->is_string()) {
    std::string s = port->get<std::string>();
    if (end) throw PolicyError(path + ".endPort", "may not be specified with a named port");
    if (!is_svc_name(s)) throw PolicyError(path + ".port", "\"" + s + "\" is not a valid port number or name");
    out.push_back(PortProto{proto, 0, 0, lower(s)});
    return;
  }
  throw PolicyError(path + ".port", "must be a number or a port name (got " + type_name(*port) + ")");
}

// One NetworkPolicyPeer added to `r`.
void parse_k8s_peer(const nlohmann::json& pj, const std::string& path, const std::string& ns, PeerRule& r) {
  expect_object(pj, path);
  check_fields(pj, path, {"podSelector", "namespaceSelector", "ipBlock"});
  const auto* pod = field(pj, "podSelector");
  const auto* nsel = field(pj, "namespaceSelector");
  const auto* ipb = field(pj, "ipBlock");
  if (!pod && !nsel && !ipb)
    throw PolicyError(path, "must specify a peer: podSelector, namespaceSelector or ipBlock");
  if (ipb && (pod || nsel))
    throw PolicyError(path, "ipBlock may not be combined with podSelector or namespaceSelector");
  if (ipb) {
    std::string ip = path + ".ipBlock";
    expect_object(*ipb, ip);
    check_fields(*ipb, ip, {"cidr", "except"});
    const auto* c = field(*ipb, "cidr");
    if (!c) throw PolicyError(ip + ".cidr", "required");
    IpPrefix pre = parse_prefix(*c, ip + ".cidr");
    auto ex = parse_excepts(*ipb, "except", ip, &pre);
    for (size_t i = 0; i < ex.size(); ++i)
      if (ex[i].len == pre.len)
        throw PolicyError(idx(ip + ".except", i), "must be a strict subset of cidr " + pre.str());
    r.cidrs.push_back({pre, ex});
    return;
  }
  Selector sel;
  if (nsel) {
    Selector nss = parse_selector(*nsel, path + ".namespaceSelector", SelectorSyntax::K8sNamespace);
    Selector ps = pod ? parse_selector(*pod, path + ".podSelector", SelectorSyntax::K8sPod) : Selector();
    std::vector<Requirement> reqs = nss.requirements();
    if (reqs.empty()) reqs.push_back({labels::kSourceK8s, kNsKey, SelectorOp::Exists, {}});
    for (const auto& q : ps.requirements()) reqs.push_back(q);
    sel = Selector(std::move(reqs));
  } else {
    sel = parse_selector(*pod, path + ".podSelector", SelectorSyntax::K8sPod);
    sel.set_match(labels::kSourceK8s, kNsKey, ns);
  }
  r.endpoints.push_back(std::move(sel));
}

void parse_k8s_rules(const nlohmann::json& spec, const char* section, const char* peers_field, Direction dir,
                     const std::string& ns, bool enabled, Rule& rule) {
  const auto* arr = field(spec, section);
  if (!arr) return;
  std::string spath = std::string("spec.") + section;
  expect_array(*arr, spath);
  for (size_t i = 0; i < arr->size(); ++i) {
    std::string p = idx(spath, i);
    const auto& e = (*arr)[i];
    expect_object(e, p);
    check_fields(e, p, {peers_field, "ports"});
    PeerRule r;
    r.dir = dir;
    r.path = p;
    const auto* peers = field(e, peers_field);
    if (peers) expect_array(*peers, p + "." + peers_field);
    if (!peers || peers->empty()) {
      // "If this field is empty or missing, this rule matches all sources."
      r.wildcard = true;
    } else {
      for (size_t k = 0; k < peers->size(); ++k)
        parse_k8s_peer((*peers)[k], idx(p + "." + peers_field, k), ns, r);
    }
    if (const auto* ports = field(e, "ports")) {
      expect_array(*ports, p + ".ports");
      for (size_t k = 0; k < ports->size(); ++k) parse_k8s_port((*ports)[k], idx(p + ".ports", k), r.ports);
      r.has_l4 = !ports->empty();
    }
    // Rules of a direction that is not in policyTypes are validated but ignored.
    if (enabled) rule.peer_rules.push_back(std::move(r));
  }
}

Rule parse_k8s_policy(const nlohmann::json& spec, const std::string& ns) {
  expect_object(spec, "spec");
  check_fields(spec, "spec", {"podSelector", "policyTypes", "ingress", "egress"});
  Rule rule;
  rule.path = "spec";
  const auto* ps = field(spec, "podSelector");
  rule.subject = ps ? parse_selector(*ps, "spec.podSelector", SelectorSyntax::K8sPod) : Selector();
  rule.subject.set_match(labels::kSourceK8s, kNsKey, ns);

  bool ingress = true, egress = false;
  if (const auto* pt = field(spec, "policyTypes")) {
    expect_array(*pt, "spec.policyTypes");
    ingress = egress = false;
    for (size_t i = 0; i < pt->size(); ++i) {
      const auto& t = (*pt)[i];
      std::string p = idx("spec.policyTypes", i);
      if (!t.is_string()) throw PolicyError(p, "must be a string (got " + type_name(t) + ")");
      std::string s = t.get<std::string>();
      if (s == "Ingress")
        ingress = true;
      else if (s == "Egress")
        egress = true;
      else
        throw PolicyError(p, "\"" + s + "\" is not a valid policy type (Ingress or Egress)");
    }
  } else {
    // API server defaulting: Ingress always, Egress when egress rules exist.
    if (const auto* e = field(spec, "egress"); e && e->is_array() && !e->empty()) egress = true;
  }
  rule.ingress_enforced = ingress;
  rule.egress_enforced = egress;
  parse_k8s_rules(spec, "ingress", "from", Direction::Ingress, ns, ingress, rule);
  parse_k8s_rules(spec, "egress", "to", Direction::Egress, ns, egress, rule);
  return rule;
}

std::string object_namespace(const nlohmann::json& obj) {
  const auto& md = obj.at("metadata");
  const auto* n = field(md, "namespace");
  if (!n) return "default";
  if (!n->is_string()) throw PolicyError("metadata.namespace", "must be a string");
  std::string s = n->get<std::string>();
  return s.empty() ? "default" : s;
}

void check_envelope(const nlohmann::json& obj, const char* api_version) {
  expect_object(obj, "(root)");
  const auto* md = field(obj, "metadata");
  if (!md) throw PolicyError("metadata", "required");
  expect_object(*md, "metadata");
  std::string name = required_string(*md, "name", "metadata");
  if (name.empty()) throw PolicyError("metadata.name", "must not be empty");
  std::string av = required_string(obj, "apiVersion", "");
  bool ok = av == api_version;
  if (!ok && std::string(api_version) == "cilium.io/v2alpha1") ok = av == "cilium.io/v2";
  if (!ok) throw PolicyError("apiVersion", "\"" + av + "\" does not serve this kind (expected " + api_version + ")");
}

}  // namespace

// ---------------------------------------------------------------------------

const char* to_string(PolicyKind k) {
  switch (k) {
    case PolicyKind::CiliumNetworkPolicy: return "CiliumNetworkPolicy";
    case PolicyKind::CiliumClusterwideNetworkPolicy: return "CiliumClusterwideNetworkPolicy";
    case PolicyKind::NetworkPolicy: return "NetworkPolicy";
  }
  return "?";
}

std::optional<PolicyKind> policy_kind_from_string(const std::string& kind) {
  if (kind == "CiliumNetworkPolicy") return PolicyKind::CiliumNetworkPolicy;
  if (kind == "CiliumClusterwideNetworkPolicy") return PolicyKind::CiliumClusterwideNetworkPolicy;
  if (kind == "NetworkPolicy") return PolicyKind::NetworkPolicy;
  return std::nullopt;
}

const std::vector<std::string>& entity_names() {
  static const std::vector<std::string> names = {"all",  "world",     "cluster",   "host",
                                                 "remote-node", "kube-apiserver", "health", "init",
                                                 "ingress", "unmanaged", "world-ipv4", "world-ipv6", "none"};
  return names;
}

std::string PortProto::str() const {
  if (proto == kProtoICMP || proto == kProtoICMPv6) return proto_name(proto) + " type " + std::to_string(port);
  std::string p = !name.empty() ? name : std::to_string(port);
  if (name.empty() && port == 0) p = "*";
  if (end_port > port && name.empty()) p += "-" + std::to_string(end_port);
  return p + "/" + proto_name(proto);
}

bool PeerRule::has_named_ports() const {
  for (const auto& p : ports)
    if (!p.name.empty()) return true;
  return false;
}

bool PeerRule::selects_nothing() const {
  return !wildcard && endpoints.empty() && entities.empty() && cidrs.empty() && cidr_groups.empty();
}

std::string Policy::display() const {
  return std::string(to_string(kind)) + " " + (ns.empty() ? name : ns + "/" + name);
}

std::vector<std::string> Policy::cidr_group_names() const {
  std::set<std::string> s;
  for (const auto& r : rules)
    for (const auto& pr : r.peer_rules)
      for (const auto& g : pr.cidr_groups)
        if (!g.name.empty()) s.insert(g.name);
  return {s.begin(), s.end()};
}

bool Policy::uses_cidr_group_selectors() const {
  for (const auto& r : rules)
    for (const auto& pr : r.peer_rules)
      for (const auto& g : pr.cidr_groups)
        if (g.selector) return true;
  return false;
}

Policy parse_policy(const nlohmann::json& obj) {
  if (!obj.is_object()) throw PolicyError("(root)", "must be a mapping (got " + type_name(obj) + ")");
  std::string kind_s = required_string(obj, "kind", "");
  auto kind = policy_kind_from_string(kind_s);
  if (!kind) throw PolicyError("kind", "\"" + kind_s + "\" is not a policy kind");
  Policy pol;
  pol.kind = *kind;
  if (*kind == PolicyKind::NetworkPolicy) {
    check_envelope(obj, "networking.k8s.io/v1");
    check_fields(obj, "", {"apiVersion", "kind", "metadata", "spec", "status"});
    pol.ns = object_namespace(obj);
    pol.name = obj["metadata"]["name"].get<std::string>();
    const auto* spec = field(obj, "spec");
    if (!spec) throw PolicyError("spec", "required");
    pol.rules.push_back(parse_k8s_policy(*spec, pol.ns));
    return pol;
  }
  check_envelope(obj, "cilium.io/v2");
  // A top-level "description" appears in upstream's documentation examples
  // (requires.yaml, wildcard-from-endpoints.yaml); the API server prunes it,
  // so it is accepted and ignored here. Anything else unknown is an error.
  check_fields(obj, "", {"apiVersion", "kind", "metadata", "spec", "specs", "status", "description"});
  pol.name = obj["metadata"]["name"].get<std::string>();
  if (*kind == PolicyKind::CiliumNetworkPolicy) pol.ns = object_namespace(obj);
  const auto* spec = field(obj, "spec");
  const auto* specs = field(obj, "specs");
  if (!spec && !specs) throw PolicyError("spec", "required (or specs)");
  if (spec) pol.rules.push_back(parse_cilium_rule(*spec, "spec", *kind, pol.ns));
  if (specs) {
    expect_array(*specs, "specs");
    for (size_t i = 0; i < specs->size(); ++i)
      pol.rules.push_back(parse_cilium_rule((*specs)[i], idx("specs", i), *kind, pol.ns));
  }
  return pol;
}

CidrGroup parse_cidr_group(const nlohmann::json& obj) {
  if (!obj.is_object()) throw PolicyError("(root)", "must be a mapping (got " + type_name(obj) + ")");
  if (required_string(obj, "kind", "") != "CiliumCIDRGroup") throw PolicyError("kind", "not a CiliumCIDRGroup");
  check_envelope(obj, "cilium.io/v2alpha1");
  check_fields(obj, "", {"apiVersion", "kind", "metadata", "spec", "status"});
  CidrGroup g;
  g.name = obj["metadata"]["name"].get<std::string>();
  if (const auto* l = field(obj["metadata"], "labels")) {
    expect_object(*l, "metadata.labels");
    for (const auto& [k, v] : l->items()) {
      if (!v.is_string()) throw PolicyError("metadata.labels." + k, "must be a string");
      g.labels[k] = v.get<std::string>();
    }
  }
  const auto* spec = field(obj, "spec");
  if (!spec) throw PolicyError("spec", "required");
  expect_object(*spec, "spec");
  check_fields(*spec, "spec", {"externalCIDRs"});
  const auto* ext = field(*spec, "externalCIDRs");
  if (!ext) throw PolicyError("spec.externalCIDRs", "required");
  expect_array(*ext, "spec.externalCIDRs");
  for (size_t i = 0; i < ext->size(); ++i) g.cidrs.push_back(parse_prefix((*ext)[i], idx("spec.externalCIDRs", i)));
  return g;
}

// ---------------------------------------------------------------------------
// Resolution

namespace {

Selector reserved_sel(const char* name) {
  return Selector::for_label(labels::Label{labels::kSourceReserved, name, ""});
}

void add_cidr_selectors(const IpPrefix& p, const std::vector<IpPrefix>& except, bool world_split,
                        std::vector<Selector>& out) {
  std::vector<Requirement> reqs;
  labels::Label l = labels::cidr_label(p);
  reqs.push_back({l.source, l.key, SelectorOp::Exists, {}});
  for (const auto& e : except) {
    if (!prefix_contains(p, e)) continue;  // group excepts apply to the CIDRs that contain them
    labels::Label el = labels::cidr_label(e);
    reqs.push_back({el.source, el.key, SelectorOp::DoesNotExist, {}});
  }
  out.push_back(Selector(std::move(reqs)));
  if (p.len == 0) {
    // Traffic that matches no CIDR identity has the world identity.
    if (world_split)
      out.push_back(reserved_sel(p.addr.v6 ? labels::kIdWorldIPv6 : labels::kIdWorldIPv4));
    else
      out.push_back(reserved_sel(labels::kIdWorld));
  }
}

std::vector<CidrPeer> group_cidrs(const CidrGroupPeer& g, const ResolveContext& ctx) {
  std::vector<CidrPeer> out;
  if (!ctx.cidr_groups) return out;
  auto add_group = [&](const CidrGroup& grp) {
    for (const auto& c : grp.cidrs) out.push_back({c, g.except});
  };
  if (!g.name.empty()) {
    auto it = ctx.cidr_groups->find(g.name);
    if (it != ctx.cidr_groups->end()) add_group(it->second);
  } else if (g.selector) {
    for (const auto& [name, grp] : *ctx.cidr_groups)
      if (g.selector->matches(labels::LabelSet::from_map(grp.labels, labels::kSourceK8s))) add_group(grp);
  }
  return out;
}

}  // namespace

ResolvedPeers resolve_peers(const PeerRule& r, const ResolveContext& ctx) {
  ResolvedPeers out;
  out.wildcard = r.wildcard;
  out.endpoints = r.endpoints;
  for (const auto& e : r.entities) {
    if (e == "all") {
      out.wildcard = true;
    } else if (e == "none") {
      // Selects nothing: the rule only puts the endpoint into default deny.
    } else if (e == "world") {
      out.others.push_back(reserved_sel(labels::kIdWorld));
      out.others.push_back(reserved_sel(labels::kIdWorldIPv4));
      out.others.push_back(reserved_sel(labels::kIdWorldIPv6));
    } else if (e == "cluster") {
      for (const char* n : {labels::kIdHost, labels::kIdRemoteNode, labels::kIdInit, labels::kIdIngress,
                            labels::kIdHealth, labels::kIdUnmanaged, labels::kIdKubeAPIServer})
        out.others.push_back(reserved_sel(n));
      out.others.push_back(
          Selector::for_label(labels::Label{labels::kSourceK8s, labels::kPolicyLabelCluster, ctx.cluster_name}));
    } else {
      out.others.push_back(reserved_sel(e.c_str()));
    }
  }
  for (const auto& c : r.cidrs) add_cidr_selectors(c.prefix, c.except, ctx.world_split, out.others);
  for (const auto& g : r.cidr_groups)
    for (const auto& c : group_cidrs(g, ctx)) add_cidr_selectors(c.prefix, c.except, ctx.world_split, out.others);
  std::sort(out.others.begin(), out.others.end());
  out.others.erase(std::unique(out.others.begin(), out.others.end()), out.others.end());
  return out;
}

std::vector<IpPrefix> rule_prefixes(const PeerRule& r, const ResolveContext& ctx) {
  std::vector<IpPrefix> out;
  auto add = [&](const CidrPeer& c) {
    if (c.prefix.len > 0) out.push_back(c.prefix);
    for (const auto& e : c.except)
      if (prefix_contains(c.prefix, e) && e.len > 0) out.push_back(e);
  };
  for (const auto& c : r.cidrs) add(c);
  for (const auto& g : r.cidr_groups)
    for (const auto& c : group_cidrs(g, ctx)) add(c);
  return out;
}

}  // namespace cpp::policy
