#include "identity/kvstore_allocator.h"

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "common/log.h"
#include "identity/cluster_identity_cache.h"
#include "identity/state_file.h"
#include "kvstore/etcd_client.h"

namespace cpp::identity {

using labels::LabelSet;
namespace kv = cpp::kvstore;

namespace {

// Each attempt either finds the cluster's id, or loses a race that taught it
// a taken id; two nodes creating the same labels settle in two rounds.
constexpr int kMaxAttempts = 64;

std::string id_key(NumericIdentity id) { return std::string(kv::keys::kIdentityId) + std::to_string(id); }
std::string value_prefix(const std::string& labels) { return std::string(kv::keys::kIdentityValue) + labels + "/"; }

std::optional<NumericIdentity> parse_number(const std::string& s) {
  if (s.empty() || s.size() > 10 || s.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  unsigned long long v = std::stoull(s);
  if (v == 0 || v > 0xffffffffull) return std::nullopt;
  return static_cast<NumericIdentity>(v);
}

std::optional<LabelSet> parse_labels(const std::string& s) {
  try {
    auto ls = LabelSet::parse_list(s);
    if (ls.empty() || ls.sorted_list() != s) return std::nullopt;
    return ls;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

std::optional<ValueKey> parse_value_key(const std::string& key) {
  const std::string prefix = kv::keys::kIdentityValue;
  if (key.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  auto slash = key.rfind('/');
  if (slash == std::string::npos || slash < prefix.size() + 1 || slash + 1 == key.size()) return std::nullopt;
  return ValueKey{key.substr(prefix.size(), slash - prefix.size()), key.substr(slash + 1)};
}

std::optional<NumericIdentity> parse_id_key(const std::string& key) {
  const std::string prefix = kv::keys::kIdentityId;
  if (key.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  return parse_number(key.substr(prefix.size()));
}

struct KvstoreAllocator::Impl : ClusterIdentityCache {
  kv::EtcdClient& etcd;
  KvstoreAllocatorOptions opts;

  // Ids whose value key must be brought in line with `held` (labels string).
  std::map<NumericIdentity, std::string> dirty;
  bool synced = false;
  bool relist = true;
  bool need_lease = true;
  uint64_t lease_generation = 0;
  bool stopping = false;

  // Serializes this node's writes to etcd (allocation, release, repair), so a
  // release's delete never overtakes an allocation's put of the same key.
  std::mutex write_mu;
  std::mt19937 rng{std::random_device{}()};  // guarded by mu
  std::unique_ptr<kv::LeaseKeeper> lease;  // guarded by write_mu
  std::unique_ptr<kv::Watch> watch;        // sync thread only
  std::thread sync_thread;

  Impl(kv::EtcdClient& e, KvstoreAllocatorOptions o)
      : ClusterIdentityCache(o.cidr_state_file, o.world_split), etcd(e), opts(std::move(o)) {}

  std::string value_key(const std::string& labels) const { return value_prefix(labels) + opts.node; }

  // --- local state (caller holds mu) -------------------------------------

  void persist_locked() const { write_state_file(opts.state_file, held); }

  void restore() {
    for (auto& rec : read_state_file(opts.state_file, is_cluster)) {
      auto key = rec.labels.sorted_list();
      held_by_key[key] = rec.id;
      dirty[rec.id] = key;
      held[rec.id] = std::move(rec);
    }
    // No observer exists yet: the events only fill `known`.
    std::vector<IdentityEvent> ignored;
    for (const auto& [id, rec] : held) refresh_locked(id, ignored);
  }

  // --- etcd (caller holds write_mu) ---------------------------------------

  int64_t lease_locked() {
    bool renew;
    {
      std::lock_guard<std::mutex> l(mu);
      renew = need_lease || !lease;
    }
    if (renew || !lease->alive()) {
      lease.reset();
      uint64_t gen;
      {
        std::lock_guard<std::mutex> l(mu);
        gen = ++lease_generation;
      }
      lease = etcd.keep_alive(opts.lease_ttl_seconds, [this, gen] {
        std::lock_guard<std::mutex> l(mu);
        if (gen != lease_generation) return;  // a lease already replaced
        need_lease = true;
        for (const auto& [id, rec] : held) dirty[id] = rec.labels.sorted_list();
        cv.notify_all();
      });
      std::lock_guard<std::mutex> l(mu);
      need_lease = false;
    }
    return lease->id();
  }

  // Adds this node's reference to an existing id; false when the id key is
  // gone or now names other labels. Re-putting the id key bumps its
  // mod_revision, which voids a concurrent GC of it (the operator deletes
  // guarded by the revision it judged unused).
  bool reference(const std::string& key, NumericIdentity id) {
    int64_t lease_id = lease_locked();
    auto r = etcd.txn({kv::Compare::value_is(id_key(id), key)},
                      {kv::TxnOp::put(id_key(id), key), kv::TxnOp::put(value_key(key), std::to_string(id), lease_id)});
    return r.succeeded;
  }

  // The id the cluster uses for these labels according to their value keys:
  // the one referenced first (lowest create revision) wins a creation race.
  static std::optional<NumericIdentity> referenced_id(const std::vector<kv::KeyValue>& kvs) {
    std::optional<NumericIdentity> best;
    int64_t best_rev = 0;
    for (const auto& e : kvs) {
      auto id = parse_number(e.value);
      if (!id) continue;
      if (!best || e.create_revision < best_rev) {
        best = id;
        best_rev = e.create_revision;
      }
    }
    return best;
  }

  // A random free id, as upstream picks them: nodes creating identities at
  // the same time then rarely race for the same id (lowest-free would make
  // every concurrent creation collide).
  NumericIdentity pick_free(const std::set<NumericIdentity>& taken) {
    std::lock_guard<std::mutex> l(mu);
    auto is_free = [&](NumericIdentity id) { return !cluster.count(id) && !held.count(id) && !taken.count(id); };
    std::uniform_int_distribution<NumericIdentity> dist(opts.cluster_min, opts.cluster_max);
    for (int i = 0; i < 32; ++i)
      if (NumericIdentity id = dist(rng); is_free(id)) return id;
    for (NumericIdentity id = opts.cluster_min; id <= opts.cluster_max; ++id)
      if (is_free(id)) return id;
    throw std::runtime_error("identity space " + std::to_string(opts.cluster_min) + ".." +
                             std::to_string(opts.cluster_max) + " exhausted");
  }

  void learn(NumericIdentity id, const std::string& labels, std::vector<IdentityEvent>& ev) {
    auto ls = parse_labels(labels);
    if (!ls) return;
    std::lock_guard<std::mutex> l(mu);
    cluster_put_locked(id, *ls, ev);
  }

  // Finds or creates the cluster's id for `key` and writes this node's value
  // key. Events for observers go to `ev`: they are delivered after write_mu
  // is released, so an observer may wait on locks whose holders allocate.
  IdentityAllocator::Allocation acquire(const std::string& key, const LabelSet& ls, std::vector<IdentityEvent>& ev) {
    std::set<NumericIdentity> stale;  // referencing these failed: id key gone or changed
    std::set<NumericIdentity> taken;  // creating these failed: someone holds the id
    for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
      try {
        auto refs = etcd.get_prefix(value_prefix(key));
        std::optional<NumericIdentity> existing = referenced_id(refs.kvs);
        if (existing && stale.count(*existing)) existing.reset();
        if (!existing) {
          std::lock_guard<std::mutex> l(mu);
          if (auto c = cluster_lookup_locked(key); c && !stale.count(*c)) existing = c;
        }
        if (existing) {
          if (reference(key, *existing)) {
            learn(*existing, key, ev);
            return {*existing, false};
          }
          stale.insert(*existing);
          continue;
        }
        NumericIdentity id = pick_free(taken);
        int64_t lease_id = lease_locked();
        auto r = etcd.txn({kv::Compare::absent(id_key(id))},
                          {kv::TxnOp::put(id_key(id), key), kv::TxnOp::put(value_key(key), std::to_string(id), lease_id),
                           kv::TxnOp{kv::TxnOp::Kind::GetPrefix, value_prefix(key), {}, 0}},
                          {kv::TxnOp::get(id_key(id))});
        taken.insert(id);
        if (!r.succeeded) {
          if (!r.reads.empty() && !r.reads[0].empty()) learn(id, r.reads[0][0].value, ev);
          continue;
        }
        // Someone else's value key visible in the same revision means their
        // id key is older than ours: they won; withdraw ours unless a third
        // node already referenced it (which re-put the id key).
        bool lost = false;
        if (r.reads.size() >= 3)
          for (const auto& e : r.reads[2])
            if (parse_number(e.value) != id) lost = true;
        if (lost) {
          auto undo = etcd.txn({kv::Compare::mod_revision_is(id_key(id), r.revision)},
                               {kv::TxnOp::del(id_key(id)), kv::TxnOp::del(value_key(key))});
          if (undo.succeeded) continue;
        }
        {
          std::lock_guard<std::mutex> l(mu);
          cluster_put_locked(id, ls, ev);
        }
        return {id, !lost};
      } catch (const kv::UnknownOutcome& e) {
        // The write may have landed: the next round re-reads the value keys,
        // where our own key shows up if it did.
        spdlog::warn("identity allocation for {}: {}; re-reading", key, e.what());
      }
    }
    throw std::runtime_error("identity allocation for " + key + " did not settle after " +
                             std::to_string(kMaxAttempts) + " attempts");
  }

  // Drops this node's value key for `key` unless it points elsewhere.
  void unreference(const std::string& key, NumericIdentity id) {
    etcd.txn({kv::Compare::value_is(value_key(key), std::to_string(id))}, {kv::TxnOp::del(value_key(key))});
  }

  // Brings one dirty id in line: held → value key written (re-creating a
  // vanished id key under the same id), not held → value key removed.
  void repair(NumericIdentity id, const std::string& key, bool is_held) {
    if (!is_held) {
      unreference(key, id);
      return;
    }
    if (reference(key, id)) return;
    int64_t lease_id = lease_locked();
    auto r = etcd.txn({kv::Compare::absent(id_key(id))},
                      {kv::TxnOp::put(id_key(id), key), kv::TxnOp::put(value_key(key), std::to_string(id), lease_id)},
                      {kv::TxnOp::get(id_key(id))});
    if (r.succeeded) {
      spdlog::info("identity {} re-created in the kvstore for {}", id, key);
      return;
    }
    std::string other = (!r.reads.empty() && !r.reads[0].empty()) ? r.reads[0][0].value : "?";
    spdlog::error("identity {} held by this node for {} now names {} in the kvstore; keeping the local mapping",
                  id, key, other);
  }

  // --- background sync -----------------------------------------------------

  void list_and_watch() {
    if (watch) watch->stop();
    watch.reset();
    auto r = etcd.get_prefix(kv::keys::kIdentityId);
    std::map<NumericIdentity, LabelSet> fresh;
    for (const auto& e : r.kvs) {
      auto id = parse_id_key(e.key);
      auto ls = parse_labels(e.value);
      if (!id || !ls) {
        spdlog::warn("kvstore identity key {}: malformed entry skipped", e.key);
        continue;
      }
      fresh[*id] = *ls;
    }
    std::vector<IdentityEvent> ev;
    {
      std::lock_guard<std::mutex> l(mu);
      std::set<NumericIdentity> ids;
      for (const auto& [id, _] : cluster) ids.insert(id);
      for (const auto& [id, _] : fresh) ids.insert(id);
      cluster.clear();
      cluster_by_key.clear();
      for (const auto& [id, ls] : fresh) {
        cluster[id] = ls;
        cluster_by_key[ls.sorted_list()].insert(id);
      }
      for (auto id : ids) refresh_locked(id, ev);
      for (const auto& [id, rec] : held)
        if (!cluster.count(id)) dirty[id] = rec.labels.sorted_list();
    }
    notify(ev);
    watch = etcd.watch_prefix(
        kv::keys::kIdentityId, r.revision + 1, [this](const std::vector<kv::WatchEvent>& evs) { on_watch(evs); },
        [this] {
          std::lock_guard<std::mutex> l(mu);
          relist = true;
          cv.notify_all();
        });
    std::lock_guard<std::mutex> l(mu);
    relist = false;
    synced = true;
    cv.notify_all();
  }

  void on_watch(const std::vector<kv::WatchEvent>& evs) {
    std::vector<IdentityEvent> ev;
    {
      std::lock_guard<std::mutex> l(mu);
      for (const auto& w : evs) {
        auto id = parse_id_key(w.kv.key);
        if (!id) {
          spdlog::warn("kvstore identity key {}: malformed key skipped", w.kv.key);
          continue;
        }
        if (w.type == kv::WatchEvent::Type::Put) {
          auto ls = parse_labels(w.kv.value);
          if (!ls) {
            spdlog::warn("kvstore identity key {}: malformed labels '{}' skipped", w.kv.key, w.kv.value);
            continue;
          }
          cluster_put_locked(*id, *ls, ev);
        } else {
          cluster_erase_locked(*id);
          refresh_locked(*id, ev);
          if (auto h = held.find(*id); h != held.end()) {
            dirty[*id] = h->second.labels.sorted_list();
            cv.notify_all();
          }
        }
      }
    }
    notify(ev);
  }

  void sync_loop() {
    bool last_failed = false;
    std::chrono::steady_clock::time_point last_warn{};
    while (true) {
      {
        std::unique_lock<std::mutex> l(mu);
        auto wake = [&] { return stopping || relist || need_lease || !dirty.empty(); };
        if (last_failed)
          cv.wait_for(l, opts.retry_interval, [&] { return stopping; });
        else
          cv.wait(l, wake);
        if (stopping) return;
      }
      try {
        bool do_relist;
        {
          std::lock_guard<std::mutex> l(mu);
          do_relist = relist;
        }
        {
          std::lock_guard<std::mutex> w(write_mu);
          lease_locked();
        }
        if (do_relist) list_and_watch();
        std::map<NumericIdentity, std::string> work;
        {
          std::lock_guard<std::mutex> l(mu);
          work = dirty;
        }
        for (const auto& [id, key] : work) {
          std::lock_guard<std::mutex> w(write_mu);
          bool is_held;
          {
            std::lock_guard<std::mutex> l(mu);
            auto h = held.find(id);
            is_held = h != held.end() && h->second.labels.sorted_list() == key;
          }
          repair(id, key, is_held);
          std::lock_guard<std::mutex> l(mu);
          if (auto d = dirty.find(id); d != dirty.end() && d->second == key) dirty.erase(d);
        }
        last_failed = false;
      } catch (const std::exception& e) {
        last_failed = true;
        auto now = std::chrono::steady_clock::now();
        if (now - last_warn > std::chrono::seconds(10)) {
          spdlog::warn("kvstore identity sync: {}; retrying", e.what());
          last_warn = now;
        }
      }
    }
  }
};

KvstoreAllocator::KvstoreAllocator(kv::EtcdClient& etcd, KvstoreAllocatorOptions opts)
    : impl_(std::make_unique<Impl>(etcd, std::move(opts))) {
  const auto& o = impl_->opts;
  if (o.node.empty() || o.node.find('/') != std::string::npos)
    throw std::invalid_argument("kvstore identity allocator: node name '" + o.node + "' is empty or contains '/'");
  if (o.cluster_min < kClusterMin || o.cluster_max < o.cluster_min || o.cluster_max >= kLocalScope)
    throw std::invalid_argument("bad cluster identity range");
  impl_->restore();
  impl_->sync_thread = std::thread([this] { impl_->sync_loop(); });
}

KvstoreAllocator::~KvstoreAllocator() { shutdown(false); }

void KvstoreAllocator::shutdown(bool revoke_lease) {
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    impl_->stopping = true;
    impl_->cv.notify_all();
  }
  if (impl_->sync_thread.joinable()) impl_->sync_thread.join();
  if (impl_->watch) impl_->watch->stop();
  impl_->watch.reset();
  std::lock_guard<std::mutex> w(impl_->write_mu);
  if (impl_->lease && revoke_lease) impl_->lease->revoke();
  impl_->lease.reset();
}

IdentityAllocator::Allocation KvstoreAllocator::allocate(const LabelSet& ls, const std::string& user) {
  if (ls.empty()) throw std::invalid_argument("cannot allocate an identity for an empty label set");
  if (auto r = reserved_for_labels(ls, impl_->opts.world_split)) return {*r, false};
  for (const auto& l : ls)
    if (l.source == labels::kSourceCidr)
      throw std::invalid_argument("CIDR labels get node-local identities (allocate_cidr)");
  auto& im = *impl_;
  const std::string key = ls.sorted_list();
  std::vector<IdentityEvent> ev;
  Allocation a;
  {
    std::lock_guard<std::mutex> w(im.write_mu);
    {
      std::lock_guard<std::mutex> l(im.mu);
      if (auto it = im.held_by_key.find(key); it != im.held_by_key.end()) {
        auto& users = im.held.at(it->second).users;
        auto pos = std::lower_bound(users.begin(), users.end(), user);
        if (pos == users.end() || *pos != user) {
          users.insert(pos, user);
          im.persist_locked();
        }
        return {it->second, false};
      }
    }
    try {
      a = im.acquire(key, ls, ev);
    } catch (const kv::Unavailable&) {
      std::lock_guard<std::mutex> l(im.mu);
      auto c = im.cluster_lookup_locked(key);
      if (!c) throw;
      // Known labels: hand out the known id now, write the reference later.
      a = {*c, false};
      im.dirty[*c] = key;
      im.cv.notify_all();
    }
    std::lock_guard<std::mutex> l(im.mu);
    im.held[a.id] = IdentityRecord{a.id, ls, {user}};
    im.held_by_key[key] = a.id;
    im.refresh_locked(a.id, ev);
    im.persist_locked();
  }
  im.notify(ev);
  return a;
}

IdentityAllocator::Allocation KvstoreAllocator::allocate_cidr(const IpPrefix& prefix, const std::string& user) {
  return impl_->cidr.allocate_cidr(prefix, user);
}

bool KvstoreAllocator::release(NumericIdentity id, const std::string& user) {
  if (is_local_scope(id)) return impl_->cidr.release(id, user);
  auto& im = *impl_;
  std::vector<IdentityEvent> ev;
  {
    std::lock_guard<std::mutex> w(im.write_mu);
    std::string key;
    {
      std::lock_guard<std::mutex> l(im.mu);
      auto it = im.held.find(id);
      if (it == im.held.end()) return false;
      auto& users = it->second.users;
      auto pos = std::lower_bound(users.begin(), users.end(), user);
      if (pos == users.end() || *pos != user) return false;
      users.erase(pos);
      if (!users.empty()) {
        im.persist_locked();
        return false;
      }
      key = it->second.labels.sorted_list();
      im.held_by_key.erase(key);
      im.held.erase(it);
      im.refresh_locked(id, ev);
      im.persist_locked();
    }
    // The background thread deletes the value key: callers release while
    // holding their own locks and must not wait for etcd.
    std::lock_guard<std::mutex> l(im.mu);
    im.dirty[id] = key;
    im.cv.notify_all();
  }
  im.notify(ev);
  return true;
}

std::vector<NumericIdentity> KvstoreAllocator::release_user(const std::string& user) {
  return impl_->release_user(user, [&](NumericIdentity id) { return release(id, user); });
}

std::optional<LabelSet> KvstoreAllocator::lookup(NumericIdentity id) const { return impl_->lookup(id); }

std::optional<NumericIdentity> KvstoreAllocator::lookup(const LabelSet& ls) const { return impl_->lookup(ls); }

std::optional<IdentityRecord> KvstoreAllocator::get(NumericIdentity id) const { return impl_->get(id); }

std::vector<IdentityRecord> KvstoreAllocator::list(bool include_reserved) const { return impl_->list(include_reserved); }

uint64_t KvstoreAllocator::add_observer(IdentityObserver cb) { return impl_->add_observer(std::move(cb)); }

void KvstoreAllocator::remove_observer(uint64_t handle) { impl_->remove_observer(handle); }

bool KvstoreAllocator::synced() const {
  std::lock_guard<std::mutex> l(impl_->mu);
  return impl_->synced;
}

bool KvstoreAllocator::wait_synced(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> l(impl_->mu);
  return impl_->cv.wait_for(l, timeout, [&] { return impl_->synced; });
}

int64_t KvstoreAllocator::lease_id() const {
  std::lock_guard<std::mutex> w(impl_->write_mu);
  return impl_->lease ? impl_->lease->id() : 0;
}

}  // namespace cpp::identity
