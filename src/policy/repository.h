#pragma once
// Repository: the policies in force, compiled (entities and CIDR groups
// resolved to selectors), and the cookies that name their rules.
#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "policy/rules.h"

namespace cpp::policy {

// Cookie 0: no rule. Cookie 1: the implicit allow-localhost entry.
inline constexpr uint32_t kCookieNone = 0;
inline constexpr uint32_t kCookieAllowLocalhost = 1;
inline constexpr uint32_t kFirstRuleCookie = 16;

// What a cookie stands for.
struct RuleRef {
  PolicyKind kind = PolicyKind::CiliumNetworkPolicy;
  std::string ns;
  std::string name;
  std::string path;  // "spec.ingress[0]"
  Direction dir = Direction::Ingress;
  bool deny = false;
  bool removed = false;  // the policy (or this rule) is no longer in force
  // "CiliumNetworkPolicy default/allow-web spec.ingress[0]"
  std::string str() const;
};

struct CompiledPeerRule {
  const PeerRule* rule = nullptr;
  uint32_t cookie = 0;
  ResolvedPeers peers;
};

struct CompiledRule {
  const Policy* policy = nullptr;
  const Rule* rule = nullptr;
  std::vector<CompiledPeerRule> peer_rules;
};

class Repository {
 public:
  using Key = std::tuple<PolicyKind, std::string, std::string>;  // kind, ns, name

  struct Entry {
    std::unique_ptr<Policy> policy;
    nlohmann::json object;  // as applied
    std::vector<CompiledRule> rules;
    uint64_t revision = 0;  // engine revision when applied
  };

  static Key key_of(const Policy& p) { return {p.kind, p.ns, p.name}; }

  // Inserts or replaces; returns the replaced entry (nullptr if none). The
  // caller keeps the old entry alive while anything still points into it.
  std::unique_ptr<Entry> upsert(Policy p, nlohmann::json object, uint64_t revision, const ResolveContext& ctx);
  std::unique_ptr<Entry> remove(const Key& k);
  // Recompiles an entry in place of the old one (after a CIDR group or
  // cluster-name change); returns the old entry.
  std::unique_ptr<Entry> recompile(const Key& k, const ResolveContext& ctx);

  const Entry* find(const Key& k) const;
  const std::map<Key, std::unique_ptr<Entry>>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }

  std::optional<RuleRef> describe(uint32_t cookie) const;

 private:
  void compile(Entry& e, const ResolveContext& ctx);
  uint32_t cookie_for(const Policy& p, const PeerRule& r);
  void mark_removed(const Entry& e);

  std::map<Key, std::unique_ptr<Entry>> entries_;
  std::map<std::string, uint32_t> cookie_by_rule_;
  std::map<uint32_t, RuleRef> rule_by_cookie_;
  uint32_t next_cookie_ = kFirstRuleCookie;
};

}  // namespace cpp::policy
