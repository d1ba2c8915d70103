#include "identity/identity.h"

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <unordered_map>

#include "identity/state_file.h"

namespace cpp::identity {

using labels::Label;
using labels::LabelSet;

const std::vector<ReservedIdentity>& reserved_identities(bool world_split) {
  static const std::vector<ReservedIdentity> base = [] {
    std::vector<ReservedIdentity> v;
    const std::pair<NumericIdentity, const char*> ids[] = {
        {kHost, labels::kIdHost},         {kWorld, labels::kIdWorld},
        {kUnmanaged, labels::kIdUnmanaged}, {kHealth, labels::kIdHealth},
        {kInit, labels::kIdInit},         {kRemoteNode, labels::kIdRemoteNode},
        {kKubeAPIServer, labels::kIdKubeAPIServer}, {kIngress, labels::kIdIngress},
    };
    for (auto [id, name] : ids) v.push_back({id, name, labels::reserved_label_set(name)});
    return v;
  }();
  static const std::vector<ReservedIdentity> split = [] {
    auto v = base;
    v.push_back({kWorldIPv4, labels::kIdWorldIPv4, labels::reserved_label_set(labels::kIdWorldIPv4)});
    v.push_back({kWorldIPv6, labels::kIdWorldIPv6, labels::reserved_label_set(labels::kIdWorldIPv6)});
    return v;
  }();
  return world_split ? split : base;
}

bool is_reserved(NumericIdentity id) { return id >= kHost && id <= kWorldIPv6; }
bool is_local_scope(NumericIdentity id) { return (id & kLocalScope) != 0; }
bool is_cluster(NumericIdentity id) { return id >= kClusterMin && id <= kClusterMax; }

std::optional<NumericIdentity> reserved_by_name(std::string_view name) {
  for (const auto& r : reserved_identities(true))
    if (r.name == name) return r.id;
  return std::nullopt;
}

std::string reserved_name(NumericIdentity id) {
  for (const auto& r : reserved_identities(true))
    if (r.id == id) return r.name;
  return "";
}

std::optional<NumericIdentity> reserved_for_labels(const LabelSet& ls, bool world_split) {
  for (const auto& r : reserved_identities(world_split))
    if (r.labels == ls) return r.id;
  if (ls.has_reserved(labels::kIdHost)) return kHost;
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// LocalAllocator

struct LocalAllocator::Impl {
  LocalAllocatorOptions opts;
  mutable std::mutex mu;
  std::map<NumericIdentity, IdentityRecord> by_id;  // allocated (non-reserved)
  std::unordered_map<std::string, NumericIdentity> by_key;  // sorted_list → id
  std::map<uint64_t, IdentityObserver> observers;
  uint64_t next_observer = 1;
  std::mutex notify_mu;  // serializes observer calls so they see events in order

  void persist() const { write_state_file(opts.state_file, by_id); }

  void restore() {
    auto valid = [](NumericIdentity id) { return id != 0 && !is_reserved(id); };
    for (auto& rec : read_state_file(opts.state_file, valid)) {
      by_key[rec.labels.sorted_list()] = rec.id;
      by_id[rec.id] = std::move(rec);
    }
  }

  NumericIdentity next_free(NumericIdentity lo, NumericIdentity hi) const {
    NumericIdentity cand = lo;
    for (auto it = by_id.lower_bound(lo); it != by_id.end() && it->first <= hi; ++it) {
      if (it->first != cand) break;
      ++cand;
    }
    if (cand > hi) throw std::runtime_error("identity space " + std::to_string(lo) + ".." + std::to_string(hi) +
                                            " exhausted");
    return cand;
  }

  // Caller holds mu. Appends events to `ev`.
  Allocation allocate_locked(const LabelSet& ls, const std::string& user, bool local,
                             std::vector<IdentityEvent>& ev) {
    auto key = ls.sorted_list();
    auto it = by_key.find(key);
    if (it != by_key.end()) {
      auto& rec = by_id.at(it->second);
      auto pos = std::lower_bound(rec.users.begin(), rec.users.end(), user);
      if (pos == rec.users.end() || *pos != user) {
        rec.users.insert(pos, user);
        persist();
      }
      return {rec.id, false};
    }
    NumericIdentity id = local ? next_free(kLocalScope + 1, kLocalMax) : next_free(opts.cluster_min, opts.cluster_max);
    IdentityRecord rec{id, ls, {user}};
    by_key[key] = id;
    by_id[id] = rec;
    persist();
    ev.push_back({IdentityEvent::Type::Added, id, ls});
    return {id, true};
  }

  // Caller holds mu.
  bool release_locked(NumericIdentity id, const std::string& user, std::vector<IdentityEvent>& ev, bool save) {
    auto it = by_id.find(id);
    if (it == by_id.end()) return false;
    auto& users = it->second.users;
    auto pos = std::lower_bound(users.begin(), users.end(), user);
    if (pos == users.end() || *pos != user) return false;
    users.erase(pos);
    bool freed = false;
    if (users.empty()) {
      ev.push_back({IdentityEvent::Type::Removed, id, it->second.labels});
      by_key.erase(it->second.labels.sorted_list());
      by_id.erase(it);
      freed = true;
    }
    if (save) persist();
    return freed;
  }

  void notify(const std::vector<IdentityEvent>& ev) {
    if (ev.empty()) return;
    std::lock_guard<std::mutex> nl(notify_mu);
    std::vector<IdentityObserver> obs;
    {
      std::lock_guard<std::mutex> l(mu);
      for (auto& [h, cb] : observers) obs.push_back(cb);
    }
    for (const auto& e : ev)
      for (auto& cb : obs) cb(e);
  }
};

LocalAllocator::LocalAllocator(LocalAllocatorOptions opts) : impl_(std::make_unique<Impl>()) {
  impl_->opts = std::move(opts);
  if (impl_->opts.cluster_min < kClusterMin || impl_->opts.cluster_max < impl_->opts.cluster_min ||
      impl_->opts.cluster_max >= kLocalScope)
    throw std::invalid_argument("bad cluster identity range");
  impl_->restore();
}

LocalAllocator::~LocalAllocator() = default;

IdentityAllocator::Allocation LocalAllocator::allocate(const LabelSet& ls, const std::string& user) {
  if (ls.empty()) throw std::invalid_argument("cannot allocate an identity for an empty label set");
  if (auto r = reserved_for_labels(ls, impl_->opts.world_split)) return {*r, false};
  for (const auto& l : ls)
    if (l.source == labels::kSourceCidr)
      throw std::invalid_argument("CIDR labels get node-local identities (allocate_cidr)");
  std::vector<IdentityEvent> ev;
  Allocation a;
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    a = impl_->allocate_locked(ls, user, false, ev);
  }
  impl_->notify(ev);
  return a;
}

IdentityAllocator::Allocation LocalAllocator::allocate_cidr(const IpPrefix& prefix, const std::string& user) {
  if (prefix.len == 0) {
    if (!impl_->opts.world_split) return {kWorld, false};
    return {prefix.addr.v6 ? kWorldIPv6 : kWorldIPv4, false};
  }
  LabelSet ls = labels::cidr_identity_labels(prefix, impl_->opts.world_split);
  std::vector<IdentityEvent> ev;
  Allocation a;
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    a = impl_->allocate_locked(ls, user, true, ev);
  }
  impl_->notify(ev);
  return a;
}

bool LocalAllocator::release(NumericIdentity id, const std::string& user) {
  std::vector<IdentityEvent> ev;
  bool freed;
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    freed = impl_->release_locked(id, user, ev, true);
  }
  impl_->notify(ev);
  return freed;
}

std::vector<NumericIdentity> LocalAllocator::release_user(const std::string& user) {
  std::vector<IdentityEvent> ev;
  std::vector<NumericIdentity> freed;
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    std::vector<NumericIdentity> held;
    for (const auto& [id, rec] : impl_->by_id)
      if (std::binary_search(rec.users.begin(), rec.users.end(), user)) held.push_back(id);
    for (auto id : held)
      if (impl_->release_locked(id, user, ev, false)) freed.push_back(id);
    if (!held.empty()) impl_->persist();
  }
  impl_->notify(ev);
  return freed;
}

std::optional<LabelSet> LocalAllocator::lookup(NumericIdentity id) const {
  for (const auto& r : reserved_identities(impl_->opts.world_split))
    if (r.id == id) return r.labels;
  std::lock_guard<std::mutex> l(impl_->mu);
  auto it = impl_->by_id.find(id);
  if (it == impl_->by_id.end()) return std::nullopt;
  return it->second.labels;
}

std::optional<NumericIdentity> LocalAllocator::lookup(const LabelSet& ls) const {
  if (auto r = reserved_for_labels(ls, impl_->opts.world_split)) return r;
  std::lock_guard<std::mutex> l(impl_->mu);
  auto it = impl_->by_key.find(ls.sorted_list());
  if (it == impl_->by_key.end()) return std::nullopt;
  return it->second;
}

std::optional<IdentityRecord> LocalAllocator::get(NumericIdentity id) const {
  for (const auto& r : reserved_identities(impl_->opts.world_split))
    if (r.id == id) return IdentityRecord{r.id, r.labels, {}};
  std::lock_guard<std::mutex> l(impl_->mu);
  auto it = impl_->by_id.find(id);
  if (it == impl_->by_id.end()) return std::nullopt;
  return it->second;
}

std::vector<IdentityRecord> LocalAllocator::list(bool include_reserved) const {
  std::vector<IdentityRecord> out;
  if (include_reserved)
    for (const auto& r : reserved_identities(impl_->opts.world_split)) out.push_back({r.id, r.labels, {}});
  std::lock_guard<std::mutex> l(impl_->mu);
  for (const auto& [id, rec] : impl_->by_id) out.push_back(rec);
  return out;
}

uint64_t LocalAllocator::add_observer(IdentityObserver cb) {
  std::lock_guard<std::mutex> nl(impl_->notify_mu);
  std::vector<IdentityEvent> existing;
  uint64_t h;
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    h = impl_->next_observer++;
    impl_->observers[h] = cb;
    for (const auto& r : reserved_identities(impl_->opts.world_split))
      existing.push_back({IdentityEvent::Type::Added, r.id, r.labels});
    for (const auto& [id, rec] : impl_->by_id) existing.push_back({IdentityEvent::Type::Added, id, rec.labels});
  }
  for (const auto& e : existing) cb(e);
  return h;
}

void LocalAllocator::remove_observer(uint64_t handle) {
  std::lock_guard<std::mutex> nl(impl_->notify_mu);
  std::lock_guard<std::mutex> l(impl_->mu);
  impl_->observers.erase(handle);
}

// ---------------------------------------------------------------------------
// CiliumIdentity objects

nlohmann::json cilium_identity_object(NumericIdentity id, const LabelSet& ls) {
  nlohmann::json meta_labels = nlohmann::json::object();
  const std::string ns_meta = std::string(labels::kPodNamespaceMetaLabels);
  for (const auto& l : ls) {
    if (l.source != labels::kSourceK8s) continue;
    if (l.key.compare(0, ns_meta.size(), ns_meta) == 0) continue;
    meta_labels[l.key] = l.value;
  }
  nlohmann::json sec = nlohmann::json::object();
  for (const auto& [k, v] : ls.to_map()) sec[k] = v;
  return {{"apiVersion", "cilium.io/v2"},
          {"kind", "CiliumIdentity"},
          {"metadata", {{"name", std::to_string(id)}, {"labels", meta_labels}}},
          {"security-labels", sec}};
}

std::pair<NumericIdentity, LabelSet> parse_cilium_identity(const nlohmann::json& obj) {
  if (!obj.is_object() || obj.value("kind", "") != "CiliumIdentity")
    throw std::invalid_argument("not a CiliumIdentity object");
  std::string name;
  if (obj.contains("metadata") && obj["metadata"].is_object()) name = obj["metadata"].value("name", "");
  if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos || name.size() > 10)
    throw std::invalid_argument("metadata.name: \"" + name + "\" is not a numeric identity");
  unsigned long long id = std::stoull(name);
  if (id == 0 || id > 0xffffffffull) throw std::invalid_argument("metadata.name: identity out of range");
  auto sec = obj.find("security-labels");
  if (sec == obj.end() || !sec->is_object()) throw std::invalid_argument("security-labels: required map");
  LabelSet ls;
  for (const auto& [k, v] : sec->items()) {
    if (!v.is_string()) throw std::invalid_argument("security-labels." + k + ": must be a string");
    Label l = Label::parse(k);
    l.value = v.get<std::string>();
    ls.add(l);
  }
  return {static_cast<NumericIdentity>(id), ls};
}

}  // namespace cpp::identity
