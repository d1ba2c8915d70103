#include "agent/policy_subsystem.h"

#include <cstring>

#include "common/log.h"
#include "policy/rules.h"

namespace cpp::agent {
namespace {

constexpr uint32_t kPolicyFlags = CPP_EP_F_ENFORCE_INGRESS | CPP_EP_F_ENFORCE_EGRESS | CPP_EP_F_AUDIT;
constexpr const char* kCidrUser = "policy-cidr";

const std::vector<std::string>& policy_kinds() {
  // CIDR groups first: policies referencing them resolve on first apply.
  static const std::vector<std::string> k{"CiliumCIDRGroup", "CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy",
                                          "NetworkPolicy"};
  return k;
}

bool is_policy_kind(const std::string& kind) {
  for (const auto& k : policy_kinds())
    if (k == kind) return true;
  return false;
}

std::string endpoint_user(const endpoint::Endpoint& ep) { return "endpoint:" + ep.container_id; }

std::vector<IpAddr> addresses(const endpoint::Endpoint& ep) {
  std::vector<IpAddr> out;
  if (ep.ipv4) out.push_back(*ep.ipv4);
  if (ep.ipv6) out.push_back(*ep.ipv6);
  return out;
}

IpPrefix host_prefix(const IpAddr& a) { return IpPrefix{a, a.bits()}; }

labels::LabelSet label_set(const std::map<std::string, std::string>& m) {
  std::vector<std::string> strs;
  for (const auto& [k, v] : m) strs.push_back(v.empty() ? k : k + "=" + v);
  return labels::LabelSet::parse(strs);
}

policy::EngineConfig engine_config(const config::AgentConfig& cfg) {
  policy::EngineConfig e;
  e.cluster_name = cfg.cluster_name;
  auto get = [&](const char* k) -> std::string {
    auto it = cfg.raw.values.find(k);
    return it == cfg.raw.values.end() ? "" : it->second;
  };
  if (auto m = get("enable-policy"); !m.empty()) e.mode = policy::parse_enforcement_mode(m);
  e.audit = get("policy-audit-mode") == "true";
  return e;
}

datapath::PolicyKey map_key(const policy::MapChange& c) {
  return {c.ep_id, c.key.direction, c.key.protocol, c.key.identity, c.key.dport};
}

datapath::PolicyEntry map_entry(const policy::MapValue& v) { return {v.deny, v.proxy_port, v.cookie}; }

std::string object_key(const nlohmann::json& obj) {
  std::string ns = obj["metadata"].value("namespace", "");
  return obj.value("kind", "?") + " " + (ns.empty() ? "" : ns + "/") + obj["metadata"].value("name", "?");
}

}  // namespace

PolicySubsystem::PolicySubsystem(const config::AgentConfig& cfg, store::ResourceStore& store,
                                 identity::IdentityAllocator& ids, const std::string& pin_dir,
                                 IpcacheWriter& ipcache)
    : cfg_(cfg),
      store_(store),
      ids_(ids),
      engine_(engine_config(cfg)),
      policy_map_(pin_dir),
      endpoint_map_(pin_dir),
      ipcache_(ipcache) {}

PolicySubsystem::~PolicySubsystem() { stop(); }

void PolicySubsystem::start() {
  observer_ = ids_.add_observer([this](const identity::IdentityEvent& ev) {
    if (ev.type == identity::IdentityEvent::Type::Added) {
      engine_.add_identity(ev.id, ev.labels);
      if (identity::is_cluster(ev.id) && !ids_.owns_identity_objects()) {
        try {
          store_.put(identity::cilium_identity_object(ev.id, ev.labels));
        } catch (const std::exception& e) {
          spdlog::warn("CiliumIdentity {}: {}", ev.id, e.what());
        }
      }
    } else {
      engine_.remove_identity(ev.id);
      if (identity::is_cluster(ev.id) && !ids_.owns_identity_objects())
        store_.remove("CiliumIdentity", "", std::to_string(ev.id));
    }
  });
  for (const auto& kind : policy_kinds()) {
    watches_.push_back(store_.watch(kind, [this](store::EventType t, const nlohmann::json& obj) {
      if (t == store::EventType::Deleted)
        remove_object(obj);
      else
        apply_object(obj);
    }));
  }
  watches_.push_back(store_.watch("Pod", [this](store::EventType t, const nlohmann::json& pod) {
    on_pod(pod, t == store::EventType::Deleted);
  }));
}

void PolicySubsystem::stop() {
  for (auto& w : watches_) w->stop();
  watches_.clear();
  if (observer_) ids_.remove_observer(observer_);
  observer_ = 0;
}

labels::LabelSet PolicySubsystem::security_labels(const endpoint::Endpoint& ep) const {
  std::string ns = ep.k8s_namespace.empty() ? "default" : ep.k8s_namespace;
  labels::PodLabelOptions opts{cfg_.cluster_name};
  if (!ep.k8s_pod_name.empty()) {
    if (auto pod = store_.get("Pod", ns, ep.k8s_pod_name)) {
      auto ns_obj = store_.get("Namespace", "", ns);
      return labels::pod_security_labels(*pod, ns_obj ? &*ns_obj : nullptr, opts);
    }
  }
  // A workload without a Pod object (a bare container runtime) still gets a
  // namespace-scoped identity so namespace-wide policies apply to it.
  nlohmann::json pod{{"metadata", {{"name", ep.k8s_pod_name.empty() ? ep.container_id : ep.k8s_pod_name},
                                   {"namespace", ns}}}};
  return labels::pod_security_labels(pod, nullptr, opts);
}

void PolicySubsystem::resolve_identity(endpoint::Endpoint& ep) {
  auto ls = security_labels(ep);
  ep.labels = ls.to_map();
  ep.identity = ids_.allocate(ls, endpoint_user(ep)).id;
}

uint32_t PolicySubsystem::flags_of(const policy::EndpointPolicy& p) {
  uint32_t f = 0;
  if (p.enforce_ingress) f |= CPP_EP_F_ENFORCE_INGRESS;
  if (p.enforce_egress) f |= CPP_EP_F_ENFORCE_EGRESS;
  if (p.audit) f |= CPP_EP_F_AUDIT;
  return f;
}

uint32_t PolicySubsystem::bind(const endpoint::Endpoint& ep) {
  std::lock_guard lock(mu_);
  bound_[ep.id] = ep;
  policy::NamedPorts named;
  if (!ep.k8s_pod_name.empty()) {
    if (auto pod = store_.get("Pod", ep.k8s_namespace.empty() ? "default" : ep.k8s_namespace, ep.k8s_pod_name))
      named = policy::pod_named_ports(*pod);
  }
  engine_.upsert_endpoint(ep.id, ep.identity, label_set(ep.labels), named);
  for (const auto& a : addresses(ep)) ipcache_claim_locked(host_prefix(a), IpcacheSource::Endpoint, ep.identity);
  flush_locked();
  auto p = engine_.endpoint_policy(ep.id);
  return p ? flags_of(*p) : 0;
}

void PolicySubsystem::attached(const endpoint::Endpoint& ep) {
  std::lock_guard lock(mu_);
  if (auto p = engine_.endpoint_policy(ep.id)) write_flags_locked(ep.id, flags_of(*p));
}

void PolicySubsystem::unbind(const endpoint::Endpoint& ep) {
  std::lock_guard lock(mu_);
  engine_.remove_endpoint(ep.id);
  for (const auto& a : addresses(ep)) ipcache_release_locked(host_prefix(a), IpcacheSource::Endpoint);
  bound_.erase(ep.id);
  if (ep.identity) ids_.release(ep.identity, endpoint_user(ep));
  flush_locked();
}

void PolicySubsystem::set_host_addresses(const std::vector<IpAddr>& addrs) {
  std::lock_guard lock(mu_);
  for (const auto& a : host_addrs_) ipcache_release_locked(host_prefix(a), IpcacheSource::Host);
  host_addrs_ = addrs;
  for (const auto& a : host_addrs_) ipcache_claim_locked(host_prefix(a), IpcacheSource::Host, CPP_ID_HOST);
}

void PolicySubsystem::write_flags_locked(uint16_t ep_id, uint32_t flags) {
  auto it = bound_.find(ep_id);
  if (it == bound_.end()) return;
  for (const auto& a : addresses(it->second)) {
    auto cur = endpoint_map_.lookup(a);
    if (!cur || cur->lxc_id != ep_id) continue;  // not attached yet: attached() writes it
    cur->flags = (cur->flags & ~kPolicyFlags) | flags;
    endpoint_map_.upsert(a, *cur);
  }
}

void PolicySubsystem::ipcache_claim_locked(const IpPrefix& key, IpcacheSource src, uint32_t identity) {
  ipcache_.claim(key, src, IpcacheClaim{identity, std::nullopt});
}

void PolicySubsystem::ipcache_release_locked(const IpPrefix& key, IpcacheSource src) { ipcache_.release(key, src); }

void PolicySubsystem::sync_cidr_identities_locked() {
  auto wanted = engine_.cidr_prefixes();
  std::set<IpPrefix> want(wanted.begin(), wanted.end());
  for (const auto& p : want) {
    if (cidr_ids_.count(p)) continue;
    auto id = ids_.allocate_cidr(p, kCidrUser).id;
    cidr_ids_[p] = id;
    ipcache_claim_locked(p, IpcacheSource::Cidr, id);
  }
  for (auto it = cidr_ids_.begin(); it != cidr_ids_.end();) {
    if (want.count(it->first)) {
      ++it;
      continue;
    }
    ipcache_release_locked(it->first, IpcacheSource::Cidr);
    ids_.release(it->second, kCidrUser);
    it = cidr_ids_.erase(it);
  }
}

void PolicySubsystem::flush_locked() {
  // New CIDR identities produce new entries; a few rounds settle it.
  for (int round = 0; round < 4; ++round) {
    sync_cidr_identities_locked();
    auto changes = engine_.take_changes();
    auto enforcement = engine_.take_enforcement_changes();
    if (changes.empty() && enforcement.empty()) break;
    for (const auto& c : changes)
      if (c.value) policy_map_.upsert(map_key(c), map_entry(*c.value));
    for (const auto& e : enforcement) {
      uint32_t f = (e.enforce_ingress ? CPP_EP_F_ENFORCE_INGRESS : 0) |
                   (e.enforce_egress ? CPP_EP_F_ENFORCE_EGRESS : 0) | (e.audit ? CPP_EP_F_AUDIT : 0);
      write_flags_locked(e.ep_id, f);
      if (on_enforcement_) on_enforcement_(e.ep_id, e.enforce_ingress, e.enforce_egress);
    }
    for (const auto& c : changes)
      if (!c.value) policy_map_.remove(map_key(c));
  }
  realized_ = engine_.revision();
}

void PolicySubsystem::apply_object(const nlohmann::json& obj) {
  std::lock_guard lock(mu_);
  try {
    engine_.apply(obj);
  } catch (const std::exception& e) {
    // The previous version (if any) stays in force.
    spdlog::warn("{} rejected: {}", object_key(obj), e.what());
    changed(false);
    return;
  }
  flush_locked();
  changed(true);
}

void PolicySubsystem::remove_object(const nlohmann::json& obj) {
  std::lock_guard lock(mu_);
  engine_.remove(obj.value("kind", ""), obj["metadata"].value("namespace", ""), obj["metadata"].value("name", ""));
  flush_locked();
  changed(true);
}

void PolicySubsystem::on_pod(const nlohmann::json& pod, bool deleted) {
  std::string key = pod["metadata"].value("namespace", "default") + "/" + pod["metadata"].value("name", "");
  if (deleted) {
    engine_.remove_peer_named_ports(key);
  } else {
    auto ports = policy::pod_named_ports(pod);
    if (ports.empty()) return;
    try {
      auto ns_obj = store_.get("Namespace", "", pod["metadata"].value("namespace", "default"));
      auto ls = labels::pod_security_labels(pod, ns_obj ? &*ns_obj : nullptr, {cfg_.cluster_name});
      if (auto id = ids_.lookup(ls)) engine_.set_peer_named_ports(key, *id, ports);
    } catch (const std::exception& e) {
      spdlog::warn("Pod {}: {}", key, e.what());
      return;
    }
  }
  std::lock_guard lock(mu_);
  flush_locked();
}

uint64_t PolicySubsystem::import(const std::vector<nlohmann::json>& objs) {
  std::vector<nlohmann::json> normalized;
  // Stored changes are counted when the store's watch applies them; only a
  // rejected import never gets there.
  try {
    for (size_t i = 0; i < objs.size(); ++i) {
      auto doc = "document " + std::to_string(i + 1) + ": ";
      auto obj = store::normalize_resource(objs[i], i + 1);
      if (!is_policy_kind(obj["kind"]))
        throw std::invalid_argument(doc + "kind " + obj["kind"].get<std::string>() + " is not a policy kind");
      try {
        if (obj["kind"] == "CiliumCIDRGroup")
          policy::parse_cidr_group(obj);
        else
          policy::parse_policy(obj);
      } catch (const policy::PolicyError& e) {
        throw std::invalid_argument(doc + e.what());
      }
      normalized.push_back(std::move(obj));
    }
  } catch (...) {
    changed(false);
    throw;
  }
  std::lock_guard lock(mu_);
  for (auto& obj : normalized) {
    auto stored = store_.put(obj).object;
    engine_.apply(stored);
  }
  flush_locked();
  return engine_.revision();
}

bool PolicySubsystem::remove(const std::string& kind, const std::string& ns, const std::string& name) {
  if (!is_policy_kind(kind)) throw std::invalid_argument("kind " + kind + " is not a policy kind");
  bool removed = store_.remove(kind, ns, name);
  std::lock_guard lock(mu_);
  engine_.remove(kind, ns, name);
  flush_locked();
  return removed;
}

nlohmann::json PolicySubsystem::policies_json() const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& p : engine_.policies()) {
    list.push_back({{"kind", p.object.value("kind", "")},
                    {"namespace", p.ns},
                    {"name", p.name},
                    {"revision", p.revision},
                    {"resourceVersion", p.object["metadata"].value("resourceVersion", "")},
                    {"rules", p.rules},
                    {"object", p.object}});
  }
  return {{"revision", engine_.revision()}, {"realized-revision", realized_.load()}, {"policies", list}};
}

nlohmann::json PolicySubsystem::identities_json() const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& r : ids_.list(true)) list.push_back({{"id", r.id}, {"labels", r.labels.strings()}});
  return list;
}

std::optional<nlohmann::json> PolicySubsystem::identity_json(uint32_t id) const {
  auto r = ids_.get(id);
  if (!r) return std::nullopt;
  return nlohmann::json{{"id", r->id}, {"labels", r->labels.strings()}, {"users", r->users}};
}

std::string PolicySubsystem::identity_labels(uint32_t id) const {
  auto ls = ids_.lookup(id);
  return ls ? ls->str() : "";
}

policy::TraceResult PolicySubsystem::trace(const labels::LabelSet& src, const labels::LabelSet& dst, uint8_t proto,
                                           uint16_t dport) const {
  return engine_.trace(src, dst, proto, dport);
}

std::optional<labels::LabelSet> PolicySubsystem::labels_of_pod(const std::string& ns, const std::string& name) const {
  auto pod = store_.get("Pod", ns, name);
  if (!pod) return std::nullopt;
  auto ns_obj = store_.get("Namespace", "", ns);
  return labels::pod_security_labels(*pod, ns_obj ? &*ns_obj : nullptr, {cfg_.cluster_name});
}

}  // namespace cpp::agent
