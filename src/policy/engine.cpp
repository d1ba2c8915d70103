#include "policy/engine.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <mutex>
#include <set>

#include "identity/identity.h"
#include "policy/selector_cache.h"

namespace cpp::policy {

using labels::LabelSet;

namespace {

// One compiled peer rule as it applies to one endpoint, with its selectors
// (fromRequires folded in) held in the selector cache.
struct EpRule {
  const CompiledPeerRule* cr = nullptr;
  bool wildcard = false;
  std::vector<SelectorCache::Entry*> sels;
  bool selects(uint32_t peer) const {
    if (wildcard) return peer == 0;
    for (auto* s : sels)
      if (s->ids.count(peer)) return true;
    return false;
  }
};

// Who contributes a map key: cookie → count, per verdict.
struct Contrib {
  std::map<uint32_t, int> allow, deny;
  bool empty() const { return allow.empty() && deny.empty(); }
  // Deny wins; the cookie names the first policy rule of the winning kind
  // (a rule is more telling in an event than the implicit allow-localhost).
  MapValue value() const {
    MapValue v;
    const auto& m = deny.empty() ? allow : deny;
    v.deny = !deny.empty();
    auto it = m.lower_bound(kFirstRuleCookie);
    v.cookie = it != m.end() ? it->first : m.begin()->first;
    return v;
  }
};

struct EpState {
  uint16_t id = 0;
  uint32_t identity = 0;
  LabelSet labels;
  NamedPorts ports;
  bool enforce_in = false;
  bool enforce_out = false;
  std::vector<EpRule> rules;
  std::set<SelectorCache::Entry*> used;
  std::map<std::pair<size_t, uint32_t>, std::vector<MapKey>> rule_keys;  // (rule index, peer) → keys
  std::map<MapKey, Contrib> contrib;
  std::map<MapKey, MapValue> entries;
  std::vector<std::string> policies;
  bool egress_named = false;
  uint64_t revision = 0;
};

bool prefix_less(const IpPrefix& a, const IpPrefix& b) {
  if (a.addr != b.addr) return a.addr < b.addr;
  return a.len < b.len;
}

std::vector<uint16_t> lookup_named(const NamedPorts& ports, const std::string& name, uint8_t proto) {
  std::vector<uint16_t> out;
  for (const auto& p : ports)
    if (p.name == name && p.proto == proto && p.port != 0) out.push_back(p.port);
  return out;
}

// Labels of a trace peer: a bare cidr:<prefix> label stands for the CIDR
// identity of that prefix (all supernets and reserved:world).
LabelSet expand_trace_labels(const LabelSet& ls, bool world_split) {
  LabelSet out = ls;
  for (const auto& l : ls)
    if (l.source == labels::kSourceCidr)
      if (auto p = labels::parse_cidr_label_key(l.key)) out.merge(labels::cidr_identity_labels(*p, world_split));
  return out;
}

std::string ports_str(const PeerRule& r) {
  if (!r.has_l4) return "all ports";
  std::string s;
  for (const auto& p : r.ports) s += (s.empty() ? "" : ", ") + p.str();
  return s.empty() ? "no ports" : s;
}

}  // namespace

struct PolicyEngine::Impl {
  EngineConfig cfg;
  mutable std::mutex mu;
  Repository repo;
  SelectorCache cache;
  std::map<std::string, CidrGroup> groups;
  std::map<uint16_t, std::unique_ptr<EpState>> eps;
  std::map<std::string, std::pair<uint32_t, NamedPorts>> peer_ports;  // key → (identity, ports)
  std::map<uint32_t, NamedPorts> ports_by_identity;
  NamedPorts all_peer_ports;
  uint64_t revision = 0;
  std::set<std::pair<uint16_t, MapKey>> dirty;
  std::map<std::pair<uint16_t, MapKey>, MapValue> committed;
  std::set<uint16_t> enf_dirty;
  std::map<uint16_t, EnforcementChange> enf_committed;

  ResolveContext ctx() const { return ResolveContext{cfg.cluster_name, &groups, cfg.world_split}; }

  // ---- map state bookkeeping -------------------------------------------

  void contribute(EpState& ep, const MapKey& k, uint32_t cookie, bool deny, int delta, bool mark) {
    auto& c = ep.contrib[k];
    auto& m = deny ? c.deny : c.allow;
    if ((m[cookie] += delta) <= 0) m.erase(cookie);
    std::optional<MapValue> nv;
    if (c.empty())
      ep.contrib.erase(k);
    else
      nv = c.value();
    auto it = ep.entries.find(k);
    std::optional<MapValue> ov;
    if (it != ep.entries.end()) ov = it->second;
    if (nv == ov) return;
    if (nv)
      ep.entries[k] = *nv;
    else
      ep.entries.erase(k);
    if (mark) dirty.insert({ep.id, k});
  }

  std::vector<MapKey> keys_for(const EpState& ep, const EpRule& r, uint32_t peer) const {
    const PeerRule& pr = *r.cr->rule;
    uint8_t dir = static_cast<uint8_t>(pr.dir);
    std::vector<MapKey> keys;
    if (!pr.has_l4) {
      keys.push_back(MapKey{peer, dir, kProtoAny, 0});
      return keys;
    }
    for (const auto& p : pr.ports) {
      if (!p.name.empty()) {
        std::vector<uint16_t> resolved;
        if (pr.dir == Direction::Ingress) {
          resolved = lookup_named(ep.ports, p.name, p.proto);
        } else if (peer == 0) {
          resolved = lookup_named(all_peer_ports, p.name, p.proto);
        } else {
          auto it = ports_by_identity.find(peer);
          if (it != ports_by_identity.end()) resolved = lookup_named(it->second, p.name, p.proto);
        }
        for (auto port : resolved) keys.push_back(MapKey{peer, dir, p.proto, port});
      } else if (p.end_port > p.port) {
        for (uint32_t port = p.port; port <= p.end_port; ++port)
          keys.push_back(MapKey{peer, dir, p.proto, static_cast<uint16_t>(port)});
      } else {
        keys.push_back(MapKey{peer, dir, p.proto, p.port});
      }
    }
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    return keys;
  }

  void add_rule_peer(EpState& ep, size_t idx, uint32_t peer, bool mark) {
    auto key = std::make_pair(idx, peer);
    if (ep.rule_keys.count(key)) return;
    const EpRule& r = ep.rules[idx];
    auto keys = keys_for(ep, r, peer);
    for (const auto& k : keys) contribute(ep, k, r.cr->cookie, r.cr->rule->deny, +1, mark);
    ep.rule_keys.emplace(key, std::move(keys));
  }

  void remove_rule_peer(EpState& ep, size_t idx, uint32_t peer) {
    auto it = ep.rule_keys.find({idx, peer});
    if (it == ep.rule_keys.end()) return;
    const EpRule& r = ep.rules[idx];
    for (const auto& k : it->second) contribute(ep, k, r.cr->cookie, r.cr->rule->deny, -1, true);
    ep.rule_keys.erase(it);
  }

  // ---- full computation of one endpoint -------------------------------

  std::vector<const CompiledRule*> selecting_rules(const LabelSet& ls) const {
    std::vector<const CompiledRule*> out;
    for (const auto& [k, e] : repo.entries())
      for (const auto& cr : e->rules)
        if (cr.rule->subject.matches(ls)) out.push_back(&cr);
    return out;
  }

  bool selects_endpoint(const Repository::Entry* e, const EpState& ep) const {
    if (!e) return false;
    for (const auto& cr : e->rules)
      if (cr.rule->subject.matches(ep.labels)) return true;
    return false;
  }

  void rebuild(EpState& ep) {
    std::map<MapKey, MapValue> old_entries = std::move(ep.entries);
    std::vector<EpRule> old_rules = std::move(ep.rules);
    bool old_in = ep.enforce_in, old_out = ep.enforce_out;

    ep.entries.clear();
    ep.rules.clear();
    ep.used.clear();
    ep.rule_keys.clear();
    ep.contrib.clear();
    ep.policies.clear();
    ep.egress_named = false;
    ep.enforce_in = ep.enforce_out = false;

    bool host = ep.labels.has_reserved(labels::kIdHost);  // no host firewall
    if (cfg.mode != EnforcementMode::Never && !host) {
      auto selected = selecting_rules(ep.labels);
      std::set<std::string> pols;
      // fromRequires / toRequires of every selecting rule, per direction and verdict.
      std::vector<Requirement> reqs[2][2];
      for (const auto* cr : selected) {
        pols.insert(cr->policy->display());
        if (cr->rule->ingress_enforced) ep.enforce_in = true;
        if (cr->rule->egress_enforced) ep.enforce_out = true;
        for (const auto& cpr : cr->peer_rules)
          for (const auto& rs : cpr.rule->requires_)
            for (const auto& q : rs.requirements())
              reqs[static_cast<int>(cpr.rule->dir)][cpr.rule->deny ? 1 : 0].push_back(q);
      }
      ep.policies.assign(pols.begin(), pols.end());
      if (cfg.mode == EnforcementMode::Always || ep.labels.has_reserved(labels::kIdInit))
        ep.enforce_in = ep.enforce_out = true;

      for (const auto* cr : selected) {
        for (const auto& cpr : cr->peer_rules) {
          EpRule r;
          r.cr = &cpr;
          r.wildcard = cpr.peers.wildcard;
          if (!r.wildcard) {
            const auto& rq = reqs[static_cast<int>(cpr.rule->dir)][cpr.rule->deny ? 1 : 0];
            for (const auto& s : cpr.peers.endpoints) {
              if (rq.empty()) {
                r.sels.push_back(cache.acquire(s));
              } else {
                std::vector<Requirement> all = s.requirements();
                all.insert(all.end(), rq.begin(), rq.end());
                r.sels.push_back(cache.acquire(Selector(std::move(all))));
              }
            }
            for (const auto& s : cpr.peers.others) r.sels.push_back(cache.acquire(s));
          }
          for (auto* s : r.sels) ep.used.insert(s);
          if (cpr.rule->dir == Direction::Egress && cpr.rule->has_named_ports()) ep.egress_named = true;
          ep.rules.push_back(std::move(r));
        }
      }
      for (size_t i = 0; i < ep.rules.size(); ++i) {
        const EpRule& r = ep.rules[i];
        if (r.wildcard) {
          add_rule_peer(ep, i, 0, false);
          continue;
        }
        std::set<uint32_t> peers;
        for (auto* s : r.sels) peers.insert(s->ids.begin(), s->ids.end());
        for (auto p : peers) add_rule_peer(ep, i, p, false);
      }
      if (cfg.allow_localhost && ep.enforce_in)
        contribute(ep, MapKey{identity::kHost, CPP_DIR_INGRESS, kProtoAny, 0}, kCookieAllowLocalhost, false, +1,
                   false);
    }

    for (auto& r : old_rules)
      for (auto* s : r.sels) cache.release(s);

    // Diff old vs new.
    bool changed = false;
    for (const auto& [k, v] : old_entries) {
      auto it = ep.entries.find(k);
      if (it == ep.entries.end() || !(it->second == v)) {
        dirty.insert({ep.id, k});
        changed = true;
      }
    }
    for (const auto& [k, v] : ep.entries)
      if (!old_entries.count(k)) {
        dirty.insert({ep.id, k});
        changed = true;
      }
    bool enf_changed = old_in != ep.enforce_in || old_out != ep.enforce_out;
    if (changed || enf_changed || ep.revision == 0) ep.revision = revision;
    if (enf_changed || !enf_committed.count(ep.id)) enf_dirty.insert(ep.id);
  }

  void rebuild_where(const std::function<bool(const EpState&)>& pred) {
    for (auto& [id, ep] : eps)
      if (pred(*ep)) rebuild(*ep);
  }

  // ---- identities --------------------------------------------------------

  void apply_selection_changes(uint32_t id, const std::vector<SelectorCache::Entry*>& changed) {
    if (changed.empty()) return;
    std::set<SelectorCache::Entry*> ch(changed.begin(), changed.end());
    for (auto& [eid, ep] : eps) {
      bool hit = false;
      for (auto* s : ch)
        if (ep->used.count(s)) {
          hit = true;
          break;
        }
      if (!hit) continue;
      bool any = false;
      for (size_t i = 0; i < ep->rules.size(); ++i) {
        const EpRule& r = ep->rules[i];
        if (r.wildcard) continue;
        bool uses = false;
        for (auto* s : r.sels)
          if (ch.count(s)) uses = true;
        if (!uses) continue;
        bool now = r.selects(id);
        bool had = ep->rule_keys.count({i, id}) != 0;
        if (now && !had) {
          add_rule_peer(*ep, i, id, true);
          any = true;
        } else if (!now && had) {
          remove_rule_peer(*ep, i, id);
          any = true;
        }
      }
      if (any) ep->revision = revision;
    }
  }

  void rebuild_port_index() {
    ports_by_identity.clear();
    all_peer_ports.clear();
    for (const auto& [k, v] : peer_ports) {
      auto& dst = ports_by_identity[v.first];
      dst.insert(dst.end(), v.second.begin(), v.second.end());
      all_peer_ports.insert(all_peer_ports.end(), v.second.begin(), v.second.end());
    }
  }

  void peer_ports_changed() {
    rebuild_port_index();
    rebuild_where([](const EpState& e) { return e.egress_named; });
  }

  // ---- policies -----------------------------------------------------------

  void replace_policy(std::unique_ptr<Repository::Entry> old, const Repository::Entry* now) {
    rebuild_where([&](const EpState& e) { return selects_endpoint(old.get(), e) || selects_endpoint(now, e); });
    // `old` dies here, after no endpoint points into it any more.
  }

  void refresh_groups(const std::string& name) {
    std::vector<Repository::Key> keys;
    for (const auto& [k, e] : repo.entries()) {
      auto names = e->policy->cidr_group_names();
      if (std::find(names.begin(), names.end(), name) != names.end() || e->policy->uses_cidr_group_selectors())
        keys.push_back(k);
    }
    for (const auto& k : keys) {
      auto old = repo.recompile(k, ctx());
      replace_policy(std::move(old), repo.find(k));
    }
  }

  // ---- trace ------------------------------------------------------------

  DirectionTrace trace_direction(Direction dir, const LabelSet& subject, const LabelSet& peer, uint8_t proto,
                                 uint16_t dport, const NamedPorts& named) const {
    DirectionTrace t;
    const char* dname = dir == Direction::Ingress ? "ingress" : "egress";
    t.steps.push_back(std::string("Resolving ") + dname + " policy for [" + subject.str() + "]");
    if (cfg.mode == EnforcementMode::Never) {
      t.steps.push_back("  enable-policy=never: policy enforcement is disabled");
      return t;
    }
    if (subject.has_reserved(labels::kIdHost)) {
      t.steps.push_back("  the host is not policed (no host firewall)");
      return t;
    }
    auto selected = selecting_rules(subject);
    bool enforced = cfg.mode == EnforcementMode::Always || subject.has_reserved(labels::kIdInit);
    std::vector<Requirement> reqs[2];
    for (const auto* cr : selected) {
      if ((dir == Direction::Ingress ? cr->rule->ingress_enforced : cr->rule->egress_enforced)) enforced = true;
      for (const auto& cpr : cr->peer_rules)
        if (cpr.rule->dir == dir)
          for (const auto& rs : cpr.rule->requires_)
            for (const auto& q : rs.requirements()) reqs[cpr.rule->deny ? 1 : 0].push_back(q);
    }
    t.enforced = enforced;
    if (!enforced) {
      t.steps.push_back(std::string("  no rule selecting it has ") + dname + " rules: " + dname +
                        " policy not enforced (enable-policy=" + to_string(cfg.mode) + ")");
      return t;
    }
    std::optional<uint32_t> deny_cookie, allow_cookie;
    for (const auto* cr : selected) {
      t.steps.push_back("* " + cr->policy->display() + " " + cr->rule->path + " selects it");
      for (const auto& cpr : cr->peer_rules) {
        const PeerRule& pr = *cpr.rule;
        if (pr.dir != dir) continue;
        const auto& rq = reqs[pr.deny ? 1 : 0];
        std::string what = std::string(pr.deny ? "denies" : "allows") + (dir == Direction::Ingress ? " from" : " to");
        bool peer_ok = cpr.peers.wildcard;
        std::string matched = peer_ok ? "any peer" : "";
        if (!peer_ok)
          for (const auto& s : cpr.peers.endpoints) {
            Selector eff = s;
            if (!rq.empty()) {
              std::vector<Requirement> all = s.requirements();
              all.insert(all.end(), rq.begin(), rq.end());
              eff = Selector(std::move(all));
            }
            if (eff.matches(peer)) {
              peer_ok = true;
              matched = eff.str();
              break;
            }
          }
        if (!peer_ok)
          for (const auto& s : cpr.peers.others)
            if (s.matches(peer)) {
              peer_ok = true;
              matched = s.str();
              break;
            }
        bool port_ok = false;
        if (peer_ok) {
          if (!pr.has_l4) port_ok = true;
          for (const auto& p : pr.ports) {
            if (p.proto != proto) continue;
            bool icmp = proto == kProtoICMP || proto == kProtoICMPv6;
            if (!p.name.empty()) {
              for (auto np : lookup_named(named, p.name, p.proto))
                if (np == dport) port_ok = true;
            } else if (icmp) {
              // Type 0 (IPv4 echo reply) lands on dport 0, which the datapath
              // reads as "any type" (as upstream's policy map does).
              if (p.port == dport || p.port == 0) port_ok = true;
            } else if (p.port == 0 || p.port == dport || (p.end_port > p.port && dport >= p.port && dport <= p.end_port)) {
              port_ok = true;
            }
          }
        }
        std::string line = "    " + pr.path + " " + what + " ";
        if (!peer_ok) {
          line += "other peers: no match";
        } else {
          line += matched + " on " + ports_str(pr) + ": " + (port_ok ? "MATCH" : "peer matches, port does not");
        }
        t.steps.push_back(line);
        if (peer_ok && port_ok) {
          auto& slot = pr.deny ? deny_cookie : allow_cookie;
          if (!slot) slot = cpr.cookie;
        }
      }
    }
    if (dir == Direction::Ingress && !deny_cookie && !allow_cookie && cfg.allow_localhost &&
        peer.has_reserved(labels::kIdHost)) {
      allow_cookie = kCookieAllowLocalhost;
      t.steps.push_back("    allow-localhost: the local host may always reach local endpoints");
    }
    if (deny_cookie) {
      t.allowed = false;
      t.cookie = *deny_cookie;
    } else if (allow_cookie) {
      t.allowed = true;
      t.cookie = *allow_cookie;
    } else {
      t.allowed = false;
      t.steps.push_back("  no rule allows it: default deny");
    }
    if (t.cookie >= kFirstRuleCookie) t.rule = repo.describe(t.cookie);
    std::string v = std::string(dname) + " verdict: " + (t.allowed ? "allowed" : "denied");
    if (t.cookie == kCookieAllowLocalhost)
      v += " by allow-localhost";
    else if (t.rule)
      v += " by " + t.rule->str();
    t.steps.push_back(v);
    return t;
  }
};

PolicyEngine::PolicyEngine(EngineConfig cfg) : impl_(std::make_unique<Impl>()) {
  impl_->cfg = std::move(cfg);
  for (const auto& r : identity::reserved_identities(impl_->cfg.world_split)) impl_->cache.add_identity(r.id, r.labels);
}

PolicyEngine::~PolicyEngine() = default;

EngineConfig PolicyEngine::config() const {
  std::lock_guard<std::mutex> l(impl_->mu);
  return impl_->cfg;
}

void PolicyEngine::set_mode(EnforcementMode mode, bool audit) {
  std::lock_guard<std::mutex> l(impl_->mu);
  impl_->revision++;
  bool audit_changed = impl_->cfg.audit != audit;
  impl_->cfg.mode = mode;
  impl_->cfg.audit = audit;
  impl_->rebuild_where([](const EpState&) { return true; });
  if (audit_changed)
    for (const auto& [id, ep] : impl_->eps) impl_->enf_dirty.insert(id);
}

void PolicyEngine::upsert_endpoint(uint16_t ep_id, uint32_t ident, const LabelSet& ls, const NamedPorts& ports) {
  std::lock_guard<std::mutex> l(impl_->mu);
  impl_->revision++;
  auto& slot = impl_->eps[ep_id];
  if (!slot) {
    slot = std::make_unique<EpState>();
    slot->id = ep_id;
  }
  EpState& ep = *slot;
  bool ports_changed = ep.ports != ports || ep.identity != ident;
  ep.identity = ident;
  ep.labels = ls;
  ep.ports = ports;
  std::string key = "endpoint:" + std::to_string(ep_id);
  impl_->rebuild(ep);
  if (ports_changed) {
    if (ports.empty())
      impl_->peer_ports.erase(key);
    else
      impl_->peer_ports[key] = {ident, ports};
    impl_->peer_ports_changed();
  }
}

void PolicyEngine::remove_endpoint(uint16_t ep_id) {
  std::lock_guard<std::mutex> l(impl_->mu);
  auto it = impl_->eps.find(ep_id);
  if (it == impl_->eps.end()) return;
  impl_->revision++;
  EpState& ep = *it->second;
  for (const auto& [k, v] : ep.entries) impl_->dirty.insert({ep_id, k});
  for (auto& r : ep.rules)
    for (auto* s : r.sels) impl_->cache.release(s);
  impl_->eps.erase(it);
  impl_->enf_dirty.erase(ep_id);
  impl_->enf_committed.erase(ep_id);
  if (impl_->peer_ports.erase("endpoint:" + std::to_string(ep_id))) impl_->peer_ports_changed();
}

bool PolicyEngine::has_endpoint(uint16_t ep_id) const {
  std::lock_guard<std::mutex> l(impl_->mu);
  return impl_->eps.count(ep_id) != 0;
}

void PolicyEngine::add_identity(uint32_t id, const LabelSet& ls) {
  if (id == 0) return;
  std::lock_guard<std::mutex> l(impl_->mu);
  impl_->revision++;
  const LabelSet* cur = impl_->cache.identity_labels(id);
  if (cur && *cur == ls) return;
  auto changed = impl_->cache.add_identity(id, ls);
  impl_->apply_selection_changes(id, changed);
}

void PolicyEngine::remove_identity(uint32_t id) {
  std::lock_guard<std::mutex> l(impl_->mu);
  if (!impl_->cache.identity_labels(id)) return;
  impl_->revision++;
  auto changed = impl_->cache.remove_identity(id);
  impl_->apply_selection_changes(id, changed);
}

void PolicyEngine::set_peer_named_ports(const std::string& key, uint32_t ident, const NamedPorts& ports) {
  std::lock_guard<std::mutex> l(impl_->mu);
  impl_->revision++;
  auto it = impl_->peer_ports.find(key);
  if (it != impl_->peer_ports.end() && it->second.first == ident && it->second.second == ports) return;
  impl_->peer_ports[key] = {ident, ports};
  impl_->peer_ports_changed();
}

void PolicyEngine::remove_peer_named_ports(const std::string& key) {
  std::lock_guard<std::mutex> l(impl_->mu);
  if (!impl_->peer_ports.erase(key)) return;
  impl_->revision++;
  impl_->peer_ports_changed();
}

uint64_t PolicyEngine::apply(const nlohmann::json& obj) {
  std::string kind = obj.is_object() && obj.contains("kind") && obj["kind"].is_string() ? obj["kind"].get<std::string>()
                                                                                        : "";
  if (kind == "CiliumCIDRGroup") {
    CidrGroup g = parse_cidr_group(obj);  // throws before anything changes
    std::lock_guard<std::mutex> l(impl_->mu);
    impl_->revision++;
    std::string name = g.name;
    impl_->groups[name] = std::move(g);
    impl_->refresh_groups(name);
    return impl_->revision;
  }
  Policy pol = parse_policy(obj);  // throws PolicyError
  std::lock_guard<std::mutex> l(impl_->mu);
  impl_->revision++;
  auto key = Repository::key_of(pol);
  auto old = impl_->repo.upsert(std::move(pol), obj, impl_->revision, impl_->ctx());
  impl_->replace_policy(std::move(old), impl_->repo.find(key));
  return impl_->revision;
}

uint64_t PolicyEngine::remove(const std::string& kind, const std::string& ns, const std::string& name) {
  std::lock_guard<std::mutex> l(impl_->mu);
  impl_->revision++;
  if (kind == "CiliumCIDRGroup") {
    if (impl_->groups.erase(name)) impl_->refresh_groups(name);
    return impl_->revision;
  }
  auto k = policy_kind_from_string(kind);
  if (!k) throw PolicyError("kind", "\"" + kind + "\" is not a policy kind");
  std::string n = ns;
  if (*k == PolicyKind::CiliumClusterwideNetworkPolicy)
    n.clear();
  else if (n.empty())
    n = "default";
  auto old = impl_->repo.remove({*k, n, name});
  if (old) impl_->replace_policy(std::move(old), nullptr);
  return impl_->revision;
}

std::vector<MapChange> PolicyEngine::take_changes() {
  std::lock_guard<std::mutex> l(impl_->mu);
  std::vector<MapChange> out;
  for (const auto& d : impl_->dirty) {
    std::optional<MapValue> cur;
    auto eit = impl_->eps.find(d.first);
    if (eit != impl_->eps.end()) {
      auto it = eit->second->entries.find(d.second);
      if (it != eit->second->entries.end()) cur = it->second;
    }
    auto cit = impl_->committed.find(d);
    if (cur) {
      if (cit == impl_->committed.end() || !(cit->second == *cur)) {
        out.push_back({d.first, d.second, cur});
        impl_->committed[d] = *cur;
      }
    } else if (cit != impl_->committed.end()) {
      out.push_back({d.first, d.second, std::nullopt});
      impl_->committed.erase(cit);
    }
  }
  impl_->dirty.clear();
  return out;
}

std::vector<EnforcementChange> PolicyEngine::take_enforcement_changes() {
  std::lock_guard<std::mutex> l(impl_->mu);
  std::vector<EnforcementChange> out;
  for (auto id : impl_->enf_dirty) {
    auto it = impl_->eps.find(id);
    if (it == impl_->eps.end()) continue;
    EnforcementChange c{id, it->second->enforce_in, it->second->enforce_out, impl_->cfg.audit};
    auto cit = impl_->enf_committed.find(id);
    if (cit == impl_->enf_committed.end() || !(cit->second == c)) {
      out.push_back(c);
      impl_->enf_committed[id] = c;
    }
  }
  impl_->enf_dirty.clear();
  return out;
}

std::optional<EndpointPolicy> PolicyEngine::endpoint_policy(uint16_t ep_id) const {
  std::lock_guard<std::mutex> l(impl_->mu);
  auto it = impl_->eps.find(ep_id);
  if (it == impl_->eps.end()) return std::nullopt;
  const EpState& ep = *it->second;
  EndpointPolicy p;
  p.ep_id = ep.id;
  p.identity = ep.identity;
  p.enforce_ingress = ep.enforce_in;
  p.enforce_egress = ep.enforce_out;
  p.audit = impl_->cfg.audit;
  p.entries = ep.entries;
  p.policies = ep.policies;
  p.revision = ep.revision;
  return p;
}

std::vector<IpPrefix> PolicyEngine::cidr_prefixes() const {
  std::lock_guard<std::mutex> l(impl_->mu);
  std::vector<IpPrefix> out;
  auto ctx = impl_->ctx();
  for (const auto& [k, e] : impl_->repo.entries())
    for (const auto& r : e->policy->rules)
      for (const auto& pr : r.peer_rules)
        for (const auto& p : rule_prefixes(pr, ctx)) out.push_back(p);
  std::sort(out.begin(), out.end(), prefix_less);
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

uint64_t PolicyEngine::revision() const {
  std::lock_guard<std::mutex> l(impl_->mu);
  return impl_->revision;
}

std::optional<RuleRef> PolicyEngine::cookie_rule(uint32_t cookie) const {
  std::lock_guard<std::mutex> l(impl_->mu);
  return impl_->repo.describe(cookie);
}

std::string PolicyEngine::describe_cookie(uint32_t cookie) const {
  if (cookie == kCookieAllowLocalhost) return "allow-localhost (the local host may always reach local endpoints)";
  auto r = cookie_rule(cookie);
  return r ? r->str() : "";
}

std::vector<PolicySummary> PolicyEngine::policies() const {
  std::lock_guard<std::mutex> l(impl_->mu);
  std::vector<PolicySummary> out;
  for (const auto& [k, e] : impl_->repo.entries())
    out.push_back({e->policy->kind, e->policy->ns, e->policy->name, e->revision, e->object, e->policy->rules.size()});
  return out;
}

std::vector<SelectorInfo> PolicyEngine::selectors() const {
  std::lock_guard<std::mutex> l(impl_->mu);
  std::vector<SelectorInfo> out;
  for (const auto* e : impl_->cache.entries())
    out.push_back({e->key, std::vector<uint32_t>(e->ids.begin(), e->ids.end()), e->refs});
  return out;
}

std::string TraceResult::verdict() const {
  if (allowed) return "ALLOWED";
  if (audit) return "AUDITED (would be denied; policy-audit-mode lets it pass)";
  return "DENIED";
}

TraceResult PolicyEngine::trace(const LabelSet& src_in, const LabelSet& dst_in, uint8_t proto, uint16_t dport,
                                const NamedPorts& dst_named_ports) const {
  std::lock_guard<std::mutex> l(impl_->mu);
  LabelSet src = expand_trace_labels(src_in, impl_->cfg.world_split);
  LabelSet dst = expand_trace_labels(dst_in, impl_->cfg.world_split);
  TraceResult r;
  r.egress = impl_->trace_direction(Direction::Egress, src, dst, proto, dport, dst_named_ports);
  r.ingress = impl_->trace_direction(Direction::Ingress, dst, src, proto, dport, dst_named_ports);
  r.allowed = r.egress.allowed && r.ingress.allowed;
  r.audit = impl_->cfg.audit;
  std::string port = (proto == kProtoICMP || proto == kProtoICMPv6)
                         ? proto_name(proto) + " type " + std::to_string(dport)
                         : std::to_string(dport) + "/" + proto_name(proto);
  std::string t = "----------------------------------------------------------------\n";
  t += "Tracing From: [" + src_in.str() + "] => To: [" + dst_in.str() + "] Ports: [" + port + "]\n\n";
  for (const auto& s : r.egress.steps) t += s + "\n";
  t += "\n";
  for (const auto& s : r.ingress.steps) t += s + "\n";
  t += "\nFinal verdict: " + r.verdict() + "\n";
  r.text = t;
  return r;
}

NamedPorts pod_named_ports(const nlohmann::json& pod) {
  NamedPorts out;
  if (!pod.is_object() || !pod.contains("spec") || !pod["spec"].is_object()) return out;
  const auto& spec = pod["spec"];
  auto it = spec.find("containers");
  if (it == spec.end() || !it->is_array()) return out;
  for (const auto& c : *it) {
    if (!c.is_object() || !c.contains("ports") || !c["ports"].is_array()) continue;
    for (const auto& p : c["ports"]) {
      if (!p.is_object()) continue;
      std::string name = p.value("name", "");
      if (name.empty() || !p.contains("containerPort") || !p["containerPort"].is_number_integer()) continue;
      long long port = p["containerPort"].get<long long>();
      if (port <= 0 || port > 65535) continue;
      std::string proto = p.value("protocol", "TCP");
      uint8_t pr = proto == "UDP" ? kProtoUDP : proto == "SCTP" ? kProtoSCTP : kProtoTCP;
      for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      out.push_back({name, static_cast<uint16_t>(port), pr});
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace cpp::policy
