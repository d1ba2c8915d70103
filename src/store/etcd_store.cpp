#include "store/etcd_store.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>

#include "store/etcd_store_codec.h"
#include "store/resource_meta.h"

namespace cpp::store {

namespace etcd_codec {

namespace {
constexpr const char* kClusterScope = "_cluster";
}

std::string kind_prefix(const std::string& prefix, const KindInfo& info, const std::string& ns) {
  std::string p = prefix + info.kind + "/";
  if (info.namespaced && !ns.empty()) p += ns + "/";
  return p;
}

std::string object_key(const std::string& prefix, const KindInfo& info, const std::string& ns,
                       const std::string& name) {
  std::string scope = info.namespaced ? (ns.empty() ? std::string(kDefaultNamespace) : ns) : kClusterScope;
  return prefix + info.kind + "/" + scope + "/" + name;
}

std::optional<ResourceKey> parse_key(const std::string& prefix, const KindInfo& info, const std::string& key,
                                     std::string* why) {
  auto fail = [&](std::string reason) -> std::optional<ResourceKey> {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  std::string base = prefix + info.kind + "/";
  if (key.compare(0, base.size(), base) != 0) return fail("key outside " + base);
  std::string rest = key.substr(base.size());
  auto slash = rest.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == rest.size() ||
      rest.find('/', slash + 1) != std::string::npos)
    return fail("key is not <kind>/<namespace or _cluster>/<name>");
  std::string scope = rest.substr(0, slash);
  if (!info.namespaced && scope != kClusterScope)
    return fail("cluster-scoped kind under namespace \"" + scope + "\"");
  return ResourceKey{info.kind, info.namespaced ? scope : std::string(), rest.substr(slash + 1)};
}

std::optional<std::pair<ResourceKey, json>> decode(const std::string& prefix, const KindInfo& info,
                                                   const kvstore::KeyValue& kv) {
  try {
    std::string why;
    auto rk = parse_key(prefix, info, kv.key, &why);
    if (!rk) throw std::runtime_error(why);
    json obj = json::parse(kv.value);
    validate_resource(obj);
    if (obj["kind"] != info.kind) throw std::runtime_error("kind does not match the key");
    if (obj["metadata"]["name"] != rk->name) throw std::runtime_error("metadata.name does not match the key");
    if (info.namespaced && obj["metadata"].value("namespace", std::string()) != rk->ns)
      throw std::runtime_error("metadata.namespace does not match the key");
    obj["metadata"]["resourceVersion"] = std::to_string(kv.mod_revision);
    return std::make_pair(std::move(*rk), std::move(obj));
  } catch (const std::exception& e) {
    spdlog::warn("store: skipping corrupt value at etcd key {} (revision {}): {}", kv.key, kv.mod_revision, e.what());
    return std::nullopt;
  }
}

}  // namespace etcd_codec

namespace {

constexpr int kMaxPutAttempts = 100;
// Each unknown outcome costs a full request timeout: give up after a few.
constexpr int kMaxUnknownOutcomes = 3;

}  // namespace

EtcdStore::EtcdStore(std::shared_ptr<kvstore::EtcdClient> etcd, std::string prefix)
    : etcd_(std::move(etcd)), prefix_(std::move(prefix)) {
  if (!etcd_) throw std::invalid_argument("EtcdStore: no etcd client");
  if (!prefix_.empty() && prefix_.back() != '/') prefix_ += '/';
}

std::string EtcdStore::key_for(const std::string& kind, const std::string& ns, const std::string& name) const {
  return etcd_codec::object_key(prefix_, kind_or_throw(kind), ns, name);
}

PutResult EtcdStore::put(json obj) {
  obj = normalize_resource(std::move(obj));
  ResourceKey rk = key_of(obj);
  const KindInfo& info = kind_or_throw(rk.kind);
  const std::string key = etcd_codec::object_key(prefix_, info, rk.ns, rk.name);
  const json wanted = without_server_fields(obj);
  // Set when a write's outcome was unknown: if re-reading finds our object,
  // that write went through and this is what it did.
  std::optional<PutOutcome> pending;
  int unknown = 0;
  for (int attempt = 0; attempt < kMaxPutAttempts; ++attempt) {
    auto kv = etcd_->get(key);
    std::optional<json> existing;
    if (kv)
      if (auto d = etcd_codec::decode(prefix_, info, *kv)) existing = std::move(d->second);
    if (existing && without_server_fields(*existing) == wanted)
      return {*existing, pending.value_or(PutOutcome::Unchanged)};
    json stored = with_server_fields(obj, existing);
    auto guard = kv ? kvstore::Compare::mod_revision_is(key, kv->mod_revision) : kvstore::Compare::absent(key);
    PutOutcome outcome = existing ? PutOutcome::Updated : PutOutcome::Created;
    try {
      auto r = etcd_->txn({guard}, {kvstore::TxnOp::put(key, stored.dump())});
      if (!r.succeeded) continue;  // another writer got there first: merge onto its version
      stored["metadata"]["resourceVersion"] = std::to_string(r.revision);
      return {stored, outcome};
    } catch (const kvstore::UnknownOutcome& e) {
      if (++unknown > kMaxUnknownOutcomes) throw;
      spdlog::warn("store: put {}: {}; re-reading", rk.str(), e.what());
      pending = pending.value_or(outcome);
    }
  }
  throw std::runtime_error("store: put " + rk.str() + ": gave up after " + std::to_string(kMaxPutAttempts) +
                           " attempts that conflicted with concurrent writers");
}

std::optional<PutResult> EtcdStore::update(const std::string& kind, const std::string& ns, const std::string& name,
                                           const Mutator& mutate) {
  const KindInfo& info = kind_or_throw(kind);
  if (!safe_component(name) || (info.namespaced && !ns.empty() && !safe_component(ns))) return std::nullopt;
  const std::string key = etcd_codec::object_key(prefix_, info, ns, name);
  int unknown = 0;
  for (int attempt = 0; attempt < kMaxPutAttempts; ++attempt) {
    auto kv = etcd_->get(key);
    if (!kv) return std::nullopt;
    auto d = etcd_codec::decode(prefix_, info, *kv);
    if (!d) return std::nullopt;
    const json& existing = d->second;
    json obj = existing;
    if (!mutate(obj)) return PutResult{existing, PutOutcome::Unchanged};
    obj = normalize_resource(std::move(obj));
    if (key_of(obj).str() != key_of(existing).str())
      throw std::invalid_argument("update " + key_of(existing).str() + ": the mutation changed the object's identity");
    if (without_server_fields(existing) == without_server_fields(obj)) return PutResult{existing, PutOutcome::Unchanged};
    json stored = with_server_fields(obj, existing);
    try {
      auto r = etcd_->txn({kvstore::Compare::mod_revision_is(key, kv->mod_revision)},
                          {kvstore::TxnOp::put(key, stored.dump())});
      if (!r.succeeded) continue;  // changed meanwhile: mutate the new version
      stored["metadata"]["resourceVersion"] = std::to_string(r.revision);
      return PutResult{stored, PutOutcome::Updated};
    } catch (const kvstore::UnknownOutcome& e) {
      // Re-reading shows whether it landed: then mutate finds nothing to change.
      if (++unknown > kMaxUnknownOutcomes) throw;
      spdlog::warn("store: update {}: {}; re-reading", key_of(existing).str(), e.what());
    }
  }
  throw std::runtime_error("store: update " + kind + " " + name + ": gave up after " +
                           std::to_string(kMaxPutAttempts) + " attempts that conflicted with concurrent writers");
}

bool EtcdStore::create(json obj) {
  obj = normalize_resource(std::move(obj));
  ResourceKey rk = key_of(obj);
  const std::string key = etcd_codec::object_key(prefix_, kind_or_throw(rk.kind), rk.ns, rk.name);
  json stored = with_server_fields(std::move(obj), std::nullopt);
  const json uid = stored["metadata"]["uid"];
  for (int unknown = 0;; ++unknown) {
    try {
      return etcd_->txn({kvstore::Compare::absent(key)}, {kvstore::TxnOp::put(key, stored.dump())}).succeeded;
    } catch (const kvstore::UnknownOutcome& e) {
      // Our uid at the key means our write landed; another object means we lost.
      if (unknown >= kMaxUnknownOutcomes) throw;
      spdlog::warn("store: create {}: {}; re-reading", rk.str(), e.what());
      if (auto kv = etcd_->get(key)) {
        auto d = json::parse(kv->value, nullptr, false);
        return d.is_object() && d.contains("metadata") && d["metadata"].value("uid", json()) == uid;
      }
    }
  }
}

std::optional<json> EtcdStore::get(const std::string& kind, const std::string& ns, const std::string& name) {
  const KindInfo& info = kind_or_throw(kind);
  if (!safe_component(name) || (info.namespaced && !ns.empty() && !safe_component(ns))) return std::nullopt;
  auto kv = etcd_->get(etcd_codec::object_key(prefix_, info, ns, name));
  if (!kv) return std::nullopt;
  auto d = etcd_codec::decode(prefix_, info, *kv);
  if (!d) return std::nullopt;
  return std::move(d->second);
}

std::vector<json> EtcdStore::list(const std::string& kind, const std::string& ns) {
  const KindInfo& info = kind_or_throw(kind);
  if (info.namespaced && !ns.empty() && !safe_component(ns)) return {};
  auto r = etcd_->get_prefix(etcd_codec::kind_prefix(prefix_, info, ns));
  std::vector<std::pair<ResourceKey, json>> objs;
  for (const auto& kv : r.kvs)
    if (auto d = etcd_codec::decode(prefix_, info, kv)) objs.push_back(std::move(*d));
  // etcd sorts by key bytes ("a-b/x" before "a/x"); the contract is namespace, then name.
  std::sort(objs.begin(), objs.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<json> out;
  out.reserve(objs.size());
  for (auto& [k, obj] : objs) out.push_back(std::move(obj));
  return out;
}

bool EtcdStore::remove(const std::string& kind, const std::string& ns, const std::string& name) {
  const KindInfo& info = kind_or_throw(kind);
  if (!safe_component(name) || (info.namespaced && !ns.empty() && !safe_component(ns))) return false;
  std::string key = etcd_codec::object_key(prefix_, info, ns, name);
  try {
    return etcd_->del(key) > 0;
  } catch (const kvstore::UnknownOutcome& e) {
    spdlog::warn("store: remove {}: {}; re-reading", key, e.what());
    return !etcd_->get(key);
  }
}

bool EtcdStore::remove_version(const std::string& kind, const std::string& ns, const std::string& name,
                               const std::string& resource_version) {
  const KindInfo& info = kind_or_throw(kind);
  if (!safe_component(name) || (info.namespaced && !ns.empty() && !safe_component(ns))) return false;
  int64_t rev = 0;
  try {
    size_t used = 0;
    rev = std::stoll(resource_version, &used);
    if (used != resource_version.size() || rev <= 0) return false;
  } catch (const std::exception&) {
    return false;  // not a version this store wrote: nothing stored has it
  }
  std::string key = etcd_codec::object_key(prefix_, info, ns, name);
  try {
    return etcd_->txn({kvstore::Compare::mod_revision_is(key, rev)}, {kvstore::TxnOp::del(key)}).succeeded;
  } catch (const kvstore::UnknownOutcome& e) {
    spdlog::warn("store: remove {} at revision {}: {}; re-reading", key, rev, e.what());
    return !etcd_->get(key);
  }
}

}  // namespace cpp::store
