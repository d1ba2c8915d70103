#include "labels/labels.h"

#include <algorithm>
#include <functional>
#include <regex>
#include <stdexcept>

namespace cpp::labels {

const std::vector<std::string>& reserved_names() {
  static const std::vector<std::string> names = {kIdHost,       kIdWorld,     kIdUnmanaged,  kIdHealth,
                                                 kIdInit,       kIdRemoteNode, kIdKubeAPIServer, kIdIngress,
                                                 kIdWorldIPv4,  kIdWorldIPv6};
  return names;
}

bool is_reserved_name(std::string_view name) {
  for (const auto& n : reserved_names())
    if (n == name) return true;
  return false;
}

// ---------------------------------------------------------------------------
// Label

Label Label::parse(std::string_view s) { return parse(s, kSourceUnspec); }

Label Label::parse(std::string_view s, std::string_view default_source) {
  Label l;
  std::string_view rest = s;
  auto colon = rest.find(':');
  auto eq = rest.find('=');
  // A ':' after the '=' belongs to the value (e.g. "k8s:url=http://x").
  if (colon != std::string_view::npos && (eq == std::string_view::npos || colon < eq)) {
    l.source = std::string(rest.substr(0, colon));
    rest = rest.substr(colon + 1);
    eq = rest.find('=');
  } else {
    l.source = std::string(default_source);
  }
  if (eq != std::string_view::npos) {
    l.key = std::string(rest.substr(0, eq));
    l.value = std::string(rest.substr(eq + 1));
  } else {
    l.key = std::string(rest);
  }
  if (l.source.empty()) l.source = std::string(default_source);
  if (l.key.empty()) throw std::invalid_argument("label \"" + std::string(s) + "\" has an empty key");
  return l;
}

std::string Label::str() const {
  std::string s = source + ":" + key;
  if (!value.empty()) s += "=" + value;
  return s;
}

Label cidr_label(const IpPrefix& prefix) {
  std::string ip = prefix.addr.str();
  std::string out;
  out.reserve(ip.size() + 6);
  for (size_t i = 0; i < ip.size(); ++i) {
    if (ip[i] == ':') {
      if (i == 0) out += '0';
      out += '-';
      if (i == ip.size() - 1) out += '0';
    } else {
      out += ip[i];
    }
  }
  out += "/" + std::to_string(prefix.len);
  return Label{kSourceCidr, out, ""};
}

std::optional<IpPrefix> parse_cidr_label_key(std::string_view key) {
  std::string s(key);
  auto slash = s.find('/');
  if (slash == std::string::npos) return std::nullopt;
  std::string addr = s.substr(0, slash);
  if (addr.find('-') != std::string::npos) {
    for (char& c : addr)
      if (c == '-') c = ':';
  }
  return IpPrefix::parse(addr + s.substr(slash));
}

// ---------------------------------------------------------------------------
// LabelSet

LabelSet::LabelSet(std::initializer_list<Label> ls) {
  for (const auto& l : ls) add(l);
}

LabelSet::LabelSet(const std::vector<Label>& ls) {
  for (const auto& l : ls) add(l);
}

LabelSet LabelSet::parse(const std::vector<std::string>& strs) {
  LabelSet s;
  for (const auto& x : strs) s.add(Label::parse(x));
  return s;
}

LabelSet LabelSet::parse_list(std::string_view s, std::string_view default_source) {
  LabelSet out;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty()) out.add(Label::parse(cur, default_source));
    cur.clear();
  };
  for (char c : s) {
    if (c == ',' || c == ';' || c == ' ' || c == '\t' || c == '\n')
      flush();
    else
      cur += c;
  }
  flush();
  return out;
}

LabelSet LabelSet::from_map(const std::map<std::string, std::string>& m, std::string_view source) {
  LabelSet s;
  for (const auto& [k, v] : m) s.add(Label{std::string(source), k, v});
  return s;
}

void LabelSet::add(Label l) {
  auto it = std::lower_bound(labels_.begin(), labels_.end(), l.key,
                             [](const Label& a, const std::string& k) { return a.key < k; });
  if (it != labels_.end() && it->key == l.key)
    *it = std::move(l);
  else
    labels_.insert(it, std::move(l));
}

void LabelSet::merge(const LabelSet& other) {
  for (const auto& l : other.labels_) add(l);
}

bool LabelSet::remove(std::string_view key) {
  auto it = std::lower_bound(labels_.begin(), labels_.end(), key,
                             [](const Label& a, std::string_view k) { return a.key < k; });
  if (it == labels_.end() || it->key != key) return false;
  labels_.erase(it);
  return true;
}

const Label* LabelSet::find(std::string_view key) const {
  auto it = std::lower_bound(labels_.begin(), labels_.end(), key,
                             [](const Label& a, std::string_view k) { return a.key < k; });
  if (it == labels_.end() || it->key != key) return nullptr;
  return &*it;
}

bool LabelSet::has(std::string_view source, std::string_view key) const {
  const Label* l = find(key);
  if (!l) return false;
  return source == kSourceAny || l->source == source;
}

std::string LabelSet::sorted_list() const {
  std::string s;
  for (const auto& l : labels_) s += l.source + ":" + l.key + "=" + l.value + ";";
  return s;
}

std::vector<std::string> LabelSet::strings() const {
  std::vector<std::string> v;
  v.reserve(labels_.size());
  for (const auto& l : labels_) v.push_back(l.str());
  return v;
}

std::string LabelSet::str() const {
  std::string s;
  for (const auto& l : labels_) {
    if (!s.empty()) s += ", ";
    s += l.str();
  }
  return s;
}

LabelSet LabelSet::with_source(std::string_view source) const {
  LabelSet out;
  for (const auto& l : labels_)
    if (l.source == source) out.labels_.push_back(l);
  return out;
}

std::map<std::string, std::string> LabelSet::to_map() const {
  std::map<std::string, std::string> m;
  for (const auto& l : labels_) m[l.source + ":" + l.key] = l.value;
  return m;
}

size_t LabelSet::hash() const { return std::hash<std::string>()(sorted_list()); }

nlohmann::json LabelSet::to_json() const { return strings(); }

LabelSet LabelSet::from_json(const nlohmann::json& j) {
  if (!j.is_array()) throw std::invalid_argument("labels must be a list of strings");
  LabelSet s;
  for (const auto& e : j) {
    if (!e.is_string()) throw std::invalid_argument("labels must be a list of strings");
    s.add(Label::parse(e.get<std::string>()));
  }
  return s;
}

LabelSet reserved_label_set(std::string_view name) {
  if (!is_reserved_name(name)) return {};
  LabelSet s{Label{kSourceReserved, std::string(name), ""}};
  if (name == kIdKubeAPIServer) s.add(Label{kSourceReserved, kIdRemoteNode, ""});
  return s;
}

LabelSet cidr_identity_labels(const IpPrefix& prefix, bool world_split) {
  LabelSet s;
  for (int len = prefix.len; len >= 0; --len) {
    auto p = IpPrefix::parse(prefix.addr.str() + "/" + std::to_string(len), true);
    s.add(cidr_label(*p));
  }
  const char* world = !world_split ? kIdWorld : (prefix.addr.v6 ? kIdWorldIPv6 : kIdWorldIPv4);
  s.add(Label{kSourceReserved, world, ""});
  return s;
}

// ---------------------------------------------------------------------------
// Pods

namespace {

std::map<std::string, std::string> string_map(const nlohmann::json& obj, const char* field) {
  std::map<std::string, std::string> m;
  if (!obj.is_object()) return m;
  auto md = obj.find("metadata");
  if (md == obj.end() || !md->is_object()) return m;
  auto it = md->find(field);
  if (it == md->end() || !it->is_object()) return m;
  for (const auto& [k, v] : it->items())
    if (v.is_string()) m[k] = v.get<std::string>();
  return m;
}

std::string str_at(const nlohmann::json& obj, const char* a, const char* b) {
  if (!obj.is_object()) return "";
  auto i = obj.find(a);
  if (i == obj.end() || !i->is_object()) return "";
  auto j = i->find(b);
  if (j == i->end() || !j->is_string()) return "";
  return j->get<std::string>();
}

}  // namespace

LabelSet pod_labels(const nlohmann::json& pod, const nlohmann::json* ns, const PodLabelOptions& opts) {
  if (str_at(pod, "metadata", "name").empty()) throw std::invalid_argument("pod: metadata.name required");
  std::string pod_ns = str_at(pod, "metadata", "namespace");
  if (pod_ns.empty()) pod_ns = "default";

  LabelSet s;
  const std::string owned = kCiliumOwnedPrefix;
  for (const auto& [k, v] : string_map(pod, "labels")) {
    if (k.compare(0, owned.size(), owned) == 0) continue;
    s.add(Label{kSourceK8s, k, v});
  }
  s.add(Label{kSourceK8s, kPodNamespaceLabel, pod_ns});
  std::string sa = str_at(pod, "spec", "serviceAccountName");
  if (sa.empty()) sa = str_at(pod, "spec", "serviceAccount");
  if (!sa.empty()) s.add(Label{kSourceK8s, kPolicyLabelServiceAccount, sa});
  s.add(Label{kSourceK8s, kPolicyLabelCluster, opts.cluster_name});
  if (ns) {
    for (const auto& [k, v] : string_map(*ns, "labels"))
      s.add(Label{kSourceK8s, std::string(kPodNamespaceMetaLabels) + "." + k, v});
  }
  return s;
}

// ---------------------------------------------------------------------------
// LabelFilter

struct LabelFilter::Compiled {
  std::regex re;
};

void LabelFilter::add(std::string_view pattern, bool user) {
  Pattern p;
  std::string s(pattern);
  auto colon = s.find(':');
  if (colon != std::string::npos) {
    p.source = s.substr(0, colon);
    s = s.substr(colon + 1);
  }
  if (s.empty()) throw std::invalid_argument("label pattern \"" + std::string(pattern) + "\" is empty");
  if (s[0] == '!') {
    p.ignore = true;
    s = s.substr(1);
  }
  if (s.empty()) throw std::invalid_argument("label pattern \"" + std::string(pattern) + "\" is empty");
  p.regex = s;
  auto c = std::make_shared<Compiled>();
  try {
    c->re = std::regex(s, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    throw std::invalid_argument("label pattern \"" + std::string(pattern) + "\": invalid regular expression");
  }
  if (user && !p.ignore) allow_list_ = true;
  patterns_.push_back(std::move(p));
  compiled_.push_back(std::move(c));
}

const LabelFilter& LabelFilter::default_filter() {
  static const LabelFilter f = [] {
    LabelFilter lf;
    for (const char* p : {
             "reserved:.*",
             R"(io\.kubernetes\.pod\.namespace)",
             R"(io\.cilium\.k8s\.namespace\.labels)",
             R"(app\.kubernetes\.io)",
             R"(io\.cilium\.k8s\.policy\.cluster)",
             R"(!io\.kubernetes)",
             R"(!kubernetes\.io)",
             R"(!statefulset\.kubernetes\.io/pod-name)",
             R"(!apps\.kubernetes\.io/pod-index)",
             R"(!batch\.kubernetes\.io/job-completion-index)",
             R"(!.*beta\.kubernetes\.io)",
             R"(!k8s\.io)",
             R"(!pod-template-generation)",
             R"(!pod-template-hash)",
             R"(!controller-revision-hash)",
             R"(!annotation.*)",
             R"(!etcd_node)",
         })
      lf.add(p, false);
    return lf;
  }();
  return f;
}

LabelFilter LabelFilter::with_user_patterns(std::string_view space_separated) {
  LabelFilter f = default_filter();
  std::string cur;
  auto flush = [&] {
    if (!cur.empty()) f.add(cur, true);
    cur.clear();
  };
  for (char c : space_separated) {
    if (c == ' ' || c == '\t' || c == '\n')
      flush();
    else
      cur += c;
  }
  flush();
  return f;
}

bool LabelFilter::relevant(const Label& l) const {
  size_t included = 0, ignored = 0;
  for (size_t i = 0; i < patterns_.size(); ++i) {
    const Pattern& p = patterns_[i];
    if (!p.source.empty() && p.source != kSourceAny && p.source != l.source) continue;
    std::smatch m;
    if (!std::regex_search(l.key, m, compiled_[i]->re)) continue;
    if (m.position(0) != 0) continue;
    size_t len = static_cast<size_t>(m.length(0));
    if (p.ignore) {
      if (ignored == 0 || len < ignored) ignored = len;
    } else if (len > included) {
      included = len;
    }
  }
  return (!allow_list_ && ignored == 0) || included > ignored;
}

std::pair<LabelSet, LabelSet> LabelFilter::split(const LabelSet& all) const {
  LabelSet id, info;
  for (const auto& l : all) (relevant(l) ? id : info).add(l);
  return {id, info};
}

LabelSet pod_security_labels(const nlohmann::json& pod, const nlohmann::json* ns, const PodLabelOptions& opts,
                             const LabelFilter& filter) {
  return filter.filter(pod_labels(pod, ns, opts));
}

}  // namespace cpp::labels
