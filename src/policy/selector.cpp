#include "policy/selector.h"

#include <algorithm>
#include <cctype>

#include "policy/json_util.h"

namespace cpp::policy {

using labels::LabelSet;

const char* to_string(SelectorOp op) {
  switch (op) {
    case SelectorOp::In: return "In";
    case SelectorOp::NotIn: return "NotIn";
    case SelectorOp::Exists: return "Exists";
    case SelectorOp::DoesNotExist: return "DoesNotExist";
  }
  return "?";
}

bool Requirement::matches(const LabelSet& ls) const {
  const labels::Label* l = ls.find(key);
  bool present = l && (source == labels::kSourceAny || l->source == source);
  switch (op) {
    case SelectorOp::Exists: return present;
    case SelectorOp::DoesNotExist: return !present;
    case SelectorOp::In: return present && std::binary_search(values.begin(), values.end(), l->value);
    case SelectorOp::NotIn: return !present || !std::binary_search(values.begin(), values.end(), l->value);
  }
  return false;
}

std::string Requirement::str() const {
  std::string k = source + ":" + key;
  switch (op) {
    case SelectorOp::Exists: return k + " exists";
    case SelectorOp::DoesNotExist: return "!" + k;
    case SelectorOp::In:
    case SelectorOp::NotIn: {
      if (op == SelectorOp::In && values.size() == 1) return values[0].empty() ? k : k + "=" + values[0];
      std::string s = k + (op == SelectorOp::In ? " in (" : " notin (");
      for (size_t i = 0; i < values.size(); ++i) s += (i ? "," : "") + values[i];
      return s + ")";
    }
  }
  return k;
}

Selector::Selector(std::vector<Requirement> reqs) : reqs_(std::move(reqs)) { normalize(); }

Selector Selector::from_labels(const LabelSet& ls) {
  std::vector<Requirement> r;
  for (const auto& l : ls) r.push_back({l.source, l.key, SelectorOp::In, {l.value}});
  return Selector(std::move(r));
}

Selector Selector::for_label(const labels::Label& l) {
  return Selector({Requirement{l.source, l.key, SelectorOp::In, {l.value}}});
}

void Selector::normalize() {
  for (auto& r : reqs_) {
    std::sort(r.values.begin(), r.values.end());
    r.values.erase(std::unique(r.values.begin(), r.values.end()), r.values.end());
  }
  std::sort(reqs_.begin(), reqs_.end());
  reqs_.erase(std::unique(reqs_.begin(), reqs_.end()), reqs_.end());
}

bool Selector::matches(const LabelSet& ls) const {
  for (const auto& r : reqs_)
    if (!r.matches(ls)) return false;
  return true;
}

bool Selector::has_key(std::string_view source, std::string_view key) const {
  for (const auto& r : reqs_)
    if (r.key == key && r.source == source) return true;
  return false;
}

bool Selector::has_source(std::string_view source) const {
  for (const auto& r : reqs_)
    if (r.source == source) return true;
  return false;
}

void Selector::add(Requirement r) {
  reqs_.push_back(std::move(r));
  normalize();
}

void Selector::set_match(std::string_view source, std::string_view key, std::string_view value) {
  reqs_.erase(std::remove_if(reqs_.begin(), reqs_.end(),
                             [&](const Requirement& r) {
                               return r.source == source && r.key == key && r.op == SelectorOp::In &&
                                      r.values.size() == 1;
                             }),
              reqs_.end());
  reqs_.push_back({std::string(source), std::string(key), SelectorOp::In, {std::string(value)}});
  normalize();
}

std::string Selector::str() const {
  std::string s = "{";
  for (size_t i = 0; i < reqs_.size(); ++i) s += (i ? ", " : "") + reqs_[i].str();
  return s + "}";
}

// ---------------------------------------------------------------------------
// Parsing

namespace {

bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// Kubernetes label value: empty, or <=63 chars of [A-Za-z0-9._-] starting and
// ending with an alphanumeric (also the pattern of Cilium's CRD for matchLabels).
bool valid_label_value(const std::string& v) {
  if (v.empty()) return true;
  if (v.size() > 63) return false;
  if (!is_alnum(v.front()) || !is_alnum(v.back())) return false;
  for (char c : v)
    if (!is_alnum(c) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

bool valid_dns_subdomain(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  auto lower_alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!lower_alnum(s.front()) || !lower_alnum(s.back())) return false;
  for (char c : s)
    if (!lower_alnum(c) && c != '-' && c != '.') return false;
  return true;
}

// Kubernetes qualified name: [prefix/]name, name <=63 of [A-Za-z0-9._-] with
// alphanumeric ends, prefix a DNS subdomain.
bool valid_qualified_name(const std::string& k) {
  std::string name = k;
  auto slash = k.find('/');
  if (slash != std::string::npos) {
    if (!valid_dns_subdomain(k.substr(0, slash))) return false;
    name = k.substr(slash + 1);
  }
  return !name.empty() && valid_label_value(name);
}

struct ParsedKey {
  std::string source;
  std::string key;
};

ParsedKey parse_key(const std::string& raw, const std::string& path, SelectorSyntax syntax) {
  if (raw.empty()) throw PolicyError(path, "label key must not be empty");
  if (syntax == SelectorSyntax::K8sPod || syntax == SelectorSyntax::K8sNamespace) {
    if (!valid_qualified_name(raw))
      throw PolicyError(path, "\"" + raw + "\" is not a valid label key");
    if (syntax == SelectorSyntax::K8sNamespace)
      return {labels::kSourceK8s, std::string(labels::kPodNamespaceMetaLabels) + "." + raw};
    return {labels::kSourceK8s, raw};
  }
  ParsedKey pk;
  auto colon = raw.find(':');
  if (colon == std::string::npos) {
    pk.source = labels::kSourceAny;
    pk.key = raw;
  } else {
    pk.source = raw.substr(0, colon);
    pk.key = raw.substr(colon + 1);
    if (pk.source.empty()) pk.source = labels::kSourceAny;
  }
  if (pk.key.empty()) throw PolicyError(path, "label key \"" + raw + "\" has no name after the source");
  if (pk.key.find(':') != std::string::npos)
    throw PolicyError(path, "\"" + raw + "\" is not a valid label key (more than one ':')");
  for (char c : pk.source)
    if (!is_alnum(c) && c != '-' && c != '_' && c != '.')
      throw PolicyError(path, "\"" + pk.source + "\" is not a valid label source");
  if (pk.source == labels::kSourceReserved && !labels::is_reserved_name(pk.key))
    throw PolicyError(path, "unknown reserved label \"" + pk.key + "\" (known: host, world, unmanaged, health, "
                            "init, remote-node, kube-apiserver, ingress, world-ipv4, world-ipv6)");
  if (pk.source == labels::kSourceCidr && !labels::parse_cidr_label_key(pk.key))
    throw PolicyError(path, "\"" + pk.key + "\" is not a valid CIDR label (e.g. cidr:10.0.0.0/8)");
  return pk;
}

std::optional<SelectorOp> parse_op(const std::string& s) {
  std::string l;
  for (char c : s) l += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (l == "in") return SelectorOp::In;
  if (l == "notin") return SelectorOp::NotIn;
  if (l == "exists") return SelectorOp::Exists;
  if (l == "doesnotexist") return SelectorOp::DoesNotExist;
  return std::nullopt;
}

}  // namespace

Selector parse_selector(const nlohmann::json& j, const std::string& path, SelectorSyntax syntax) {
  if (j.is_null()) return Selector();
  expect_object(j, path);
  check_fields(j, path, {"matchLabels", "matchExpressions"});
  std::vector<Requirement> reqs;
  if (auto ml = field(j, "matchLabels")) {
    std::string mpath = path + ".matchLabels";
    expect_object(*ml, mpath);
    for (const auto& [k, v] : ml->items()) {
      std::string kpath = mpath + "." + k;
      ParsedKey pk = parse_key(k, kpath, syntax);
      if (!v.is_string()) throw PolicyError(kpath, "must be a string (got " + type_name(v) + "; quote it in YAML)");
      std::string val = v.get<std::string>();
      if (!valid_label_value(val) && pk.source != labels::kSourceCidr)
        throw PolicyError(kpath, "\"" + val + "\" is not a valid label value");
      reqs.push_back({pk.source, pk.key, SelectorOp::In, {val}});
    }
  }
  if (auto me = field(j, "matchExpressions")) {
    std::string mpath = path + ".matchExpressions";
    expect_array(*me, mpath);
    for (size_t i = 0; i < me->size(); ++i) {
      const auto& e = (*me)[i];
      std::string epath = mpath + "[" + std::to_string(i) + "]";
      expect_object(e, epath);
      check_fields(e, epath, {"key", "operator", "values"});
      std::string key = required_string(e, "key", epath);
      ParsedKey pk = parse_key(key, epath + ".key", syntax);
      std::string ops = required_string(e, "operator", epath);
      auto op = parse_op(ops);
      if (!op)
        throw PolicyError(epath + ".operator",
                          "\"" + ops + "\" is not a valid operator (In, NotIn, Exists, DoesNotExist)");
      std::vector<std::string> values;
      if (auto vs = field(e, "values")) {
        expect_array(*vs, epath + ".values");
        for (size_t k = 0; k < vs->size(); ++k) {
          const auto& v = (*vs)[k];
          std::string vpath = epath + ".values[" + std::to_string(k) + "]";
          if (!v.is_string()) throw PolicyError(vpath, "must be a string (got " + type_name(v) + ")");
          values.push_back(v.get<std::string>());
        }
      }
      if ((*op == SelectorOp::In || *op == SelectorOp::NotIn) && values.empty())
        throw PolicyError(epath + ".values", std::string("must be non-empty for operator ") + to_string(*op) +
                                                 (*op == SelectorOp::In ? " (the selector could never match)" : ""));
      if ((*op == SelectorOp::Exists || *op == SelectorOp::DoesNotExist) && !values.empty())
        throw PolicyError(epath + ".values", std::string("must be empty for operator ") + to_string(*op));
      reqs.push_back({pk.source, pk.key, *op, values});
    }
  }
  return Selector(std::move(reqs));
}

}  // namespace cpp::policy
