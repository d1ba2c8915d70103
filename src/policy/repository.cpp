#include "policy/repository.h"

namespace cpp::policy {

std::string RuleRef::str() const {
  std::string s = std::string(to_string(kind)) + " " + (ns.empty() ? name : ns + "/" + name) + " " + path;
  if (removed) s += " (removed)";
  return s;
}

uint32_t Repository::cookie_for(const Policy& p, const PeerRule& r) {
  std::string id = std::string(to_string(p.kind)) + "/" + p.ns + "/" + p.name + "/" + r.path;
  auto it = cookie_by_rule_.find(id);
  uint32_t c;
  if (it != cookie_by_rule_.end()) {
    c = it->second;
  } else {
    c = next_cookie_++;
    if (next_cookie_ == 0) next_cookie_ = kFirstRuleCookie;  // wrapped after 4 billion rule positions
    cookie_by_rule_[id] = c;
  }
  rule_by_cookie_[c] = RuleRef{p.kind, p.ns, p.name, r.path, r.dir, r.deny, false};
  return c;
}

void Repository::compile(Entry& e, const ResolveContext& ctx) {
  e.rules.clear();
  for (const auto& rule : e.policy->rules) {
    CompiledRule cr;
    cr.policy = e.policy.get();
    cr.rule = &rule;
    for (const auto& pr : rule.peer_rules) {
      CompiledPeerRule cpr;
      cpr.rule = &pr;
      cpr.cookie = cookie_for(*e.policy, pr);
      cpr.peers = resolve_peers(pr, ctx);
      cr.peer_rules.push_back(std::move(cpr));
    }
    e.rules.push_back(std::move(cr));
  }
}

void Repository::mark_removed(const Entry& e) {
  for (const auto& cr : e.rules)
    for (const auto& cpr : cr.peer_rules) {
      auto it = rule_by_cookie_.find(cpr.cookie);
      if (it != rule_by_cookie_.end()) it->second.removed = true;
    }
}

std::unique_ptr<Repository::Entry> Repository::upsert(Policy p, nlohmann::json object, uint64_t revision,
                                                      const ResolveContext& ctx) {
  auto e = std::make_unique<Entry>();
  e->policy = std::make_unique<Policy>(std::move(p));
  e->object = std::move(object);
  e->revision = revision;
  Key k = key_of(*e->policy);
  auto it = entries_.find(k);
  std::unique_ptr<Entry> old;
  if (it != entries_.end()) {
    old = std::move(it->second);
    mark_removed(*old);  // rules that still exist are re-marked live by compile()
  }
  compile(*e, ctx);
  entries_[k] = std::move(e);
  return old;
}

std::unique_ptr<Repository::Entry> Repository::remove(const Key& k) {
  auto it = entries_.find(k);
  if (it == entries_.end()) return nullptr;
  auto old = std::move(it->second);
  entries_.erase(it);
  mark_removed(*old);
  return old;
}

std::unique_ptr<Repository::Entry> Repository::recompile(const Key& k, const ResolveContext& ctx) {
  auto it = entries_.find(k);
  if (it == entries_.end()) return nullptr;
  Entry& cur = *it->second;
  auto e = std::make_unique<Entry>();
  e->policy = std::make_unique<Policy>(*cur.policy);
  e->object = cur.object;
  e->revision = cur.revision;
  compile(*e, ctx);
  auto old = std::move(it->second);
  it->second = std::move(e);
  return old;
}

const Repository::Entry* Repository::find(const Key& k) const {
  auto it = entries_.find(k);
  return it == entries_.end() ? nullptr : it->second.get();
}

std::optional<RuleRef> Repository::describe(uint32_t cookie) const {
  auto it = rule_by_cookie_.find(cookie);
  if (it == rule_by_cookie_.end()) return std::nullopt;
  return it->second;
}

}  // namespace cpp::policy
