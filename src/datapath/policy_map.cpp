#include "datapath/policy_map.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace cpp::datapath {

cpp_policy_key policy_key(const PolicyKey& key) {
  cpp_policy_key k;
  std::memset(&k, 0, sizeof(k));  // padding is part of the hashed key
  k.ep_id = key.ep_id;
  k.direction = key.direction;
  k.protocol = key.protocol;
  k.identity = key.identity;
  k.dport = htons(key.dport);
  return k;
}

PolicyKey policy_key_from(const cpp_policy_key& k) {
  return PolicyKey{k.ep_id, k.direction, k.protocol, k.identity, ntohs(k.dport)};
}

namespace {

cpp_policy_value policy_value(const PolicyEntry& e) {
  cpp_policy_value v;
  std::memset(&v, 0, sizeof(v));
  v.flags = e.deny ? CPP_POLICY_F_DENY : 0;
  v.proxy_port = htons(e.proxy_port);
  v.cookie = e.cookie;
  return v;
}

PolicyMapEntry decode(const cpp_policy_key& k, const cpp_policy_value& v) {
  PolicyMapEntry e;
  e.key = policy_key_from(k);
  e.entry.deny = (v.flags & CPP_POLICY_F_DENY) != 0;
  e.entry.proxy_port = ntohs(v.proxy_port);
  e.entry.cookie = v.cookie;
  e.packets = v.packets;
  e.bytes = v.bytes;
  return e;
}

void sort_by_key(std::vector<PolicyMapEntry>& v) {
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
}

}  // namespace

PolicyMap::PolicyMap(const std::string& pin_dir)
    : map_(pin_dir + "/" CPP_MAP_POLICY, sizeof(cpp_policy_key), sizeof(cpp_policy_value)) {}

void PolicyMap::upsert(const PolicyKey& key, const PolicyEntry& entry) const {
  // Canonical key (zeroed padding): the map hashes every byte.
  auto k = policy_key(key);
  auto v = policy_value(entry);
  cpp_policy_value old{};
  // Racy by nature (the datapath keeps counting meanwhile); losing a few
  // increments on a rule change is fine, resetting the totals is not.
  if (map_.lookup(&k, &old)) {
    v.packets = old.packets;
    v.bytes = old.bytes;
  }
  map_.update(&k, &v);
}

bool PolicyMap::remove(const PolicyKey& key) const {
  auto k = policy_key(key);
  return map_.remove(&k);
}

std::optional<PolicyMapEntry> PolicyMap::lookup(const PolicyKey& key) const {
  auto k = policy_key(key);
  cpp_policy_value v{};
  if (!map_.lookup(&k, &v)) return std::nullopt;
  return decode(k, v);
}

std::vector<PolicyMapEntry> PolicyMap::dump() const {
  std::vector<PolicyMapEntry> out;
  map_.for_each([&](const void* k, const void* v) {
    out.push_back(decode(*static_cast<const cpp_policy_key*>(k),
                         *static_cast<const cpp_policy_value*>(v)));
  });
  sort_by_key(out);
  return out;
}

std::vector<PolicyMapEntry> PolicyMap::dump(uint16_t ep_id) const {
  std::vector<PolicyMapEntry> out;
  map_.for_each([&](const void* k, const void* v) {
    const auto& key = *static_cast<const cpp_policy_key*>(k);
    if (key.ep_id == ep_id) out.push_back(decode(key, *static_cast<const cpp_policy_value*>(v)));
  });
  sort_by_key(out);
  return out;
}

size_t PolicyMap::remove_all_for_endpoint(uint16_t ep_id) const {
  size_t n = 0;
  for (const auto& e : dump(ep_id)) n += remove(e.key) ? 1 : 0;
  return n;
}

PolicyMap::SyncStats PolicyMap::sync(uint16_t ep_id,
                                     const std::map<PolicyKey, PolicyEntry>& desired) const {
  for (const auto& [key, entry] : desired)
    if (key.ep_id != ep_id)
      throw std::invalid_argument("policy sync for endpoint " + std::to_string(ep_id) +
                                  " got a key of endpoint " + std::to_string(key.ep_id));

  std::map<PolicyKey, PolicyEntry> current;
  for (const auto& e : dump(ep_id)) current.emplace(e.key, e.entry);

  SyncStats st;
  std::vector<std::pair<PolicyKey, PolicyEntry>> add_deny, add_allow;
  std::vector<PolicyKey> drop_allow, drop_deny;
  for (const auto& [key, entry] : desired) {
    auto it = current.find(key);
    if (it != current.end() && it->second == entry) {
      ++st.unchanged;
      continue;
    }
    (it == current.end() ? st.added : st.updated) += 1;
    (entry.deny ? add_deny : add_allow).emplace_back(key, entry);
  }
  for (const auto& [key, entry] : current) {
    if (desired.count(key)) continue;
    (entry.deny ? drop_deny : drop_allow).push_back(key);
  }

  for (const auto& [k, e] : add_deny) upsert(k, e);
  for (const auto& k : drop_allow) st.removed += remove(k) ? 1 : 0;
  for (const auto& [k, e] : add_allow) upsert(k, e);
  for (const auto& k : drop_deny) st.removed += remove(k) ? 1 : 0;
  return st;
}

}  // namespace cpp::datapath
