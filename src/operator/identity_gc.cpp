#include "operator/identity_gc.h"

#include <set>

#include "common/log.h"
#include "identity/kvstore_allocator.h"

namespace cpp::op {

namespace kv = cpp::kvstore;

std::vector<GcCandidate> IdentityGcTracker::pass(const std::vector<kv::KeyValue>& id_keys,
                                                 const std::vector<kv::KeyValue>& value_keys,
                                                 std::chrono::steady_clock::time_point now) {
  // (labels, id) pairs some node references.
  std::set<std::pair<std::string, std::string>> refs;
  for (const auto& v : value_keys)
    if (auto vk = identity::parse_value_key(v.key)) refs.insert({vk->labels, v.value});
  std::vector<GcCandidate> out;
  std::map<identity::NumericIdentity, std::pair<int64_t, std::chrono::steady_clock::time_point>> next;
  for (const auto& k : id_keys) {
    auto id = identity::parse_id_key(k.key);
    if (!id) continue;
    if (refs.count({k.value, std::to_string(*id)})) continue;
    auto it = since_.find(*id);
    // A new mod_revision means someone touched it: the clock restarts.
    auto entry = (it != since_.end() && it->second.first == k.mod_revision) ? it->second
                                                                             : std::pair{k.mod_revision, now};
    next[*id] = entry;
    if (now - entry.second >= grace_) out.push_back({*id, k.mod_revision});
  }
  since_ = std::move(next);
  return out;
}

std::vector<identity::NumericIdentity> run_identity_gc(kv::EtcdClient& etcd, IdentityGcTracker& tracker,
                                                       size_t* alive) {
  auto snap = etcd.txn({}, {kv::TxnOp{kv::TxnOp::Kind::GetPrefix, kv::keys::kIdentityId, {}, 0},
                            kv::TxnOp{kv::TxnOp::Kind::GetPrefix, kv::keys::kIdentityValue, {}, 0}});
  if (snap.reads.size() < 2) throw std::runtime_error("identity GC: snapshot transaction returned no reads");
  std::vector<identity::NumericIdentity> deleted;
  for (const auto& c : tracker.pass(snap.reads[0], snap.reads[1], std::chrono::steady_clock::now())) {
    std::string key = std::string(kv::keys::kIdentityId) + std::to_string(c.id);
    auto r = etcd.txn({kv::Compare::mod_revision_is(key, c.mod_revision)}, {kv::TxnOp::del(key)});
    if (r.succeeded) {
      spdlog::info("identity GC: deleted unused identity {}", c.id);
      deleted.push_back(c.id);
    }
  }
  if (alive) *alive = snap.reads[0].size() - deleted.size();
  return deleted;
}

}  // namespace cpp::op
