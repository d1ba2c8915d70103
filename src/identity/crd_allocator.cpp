#include "identity/crd_allocator.h"

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
#include "store/store.h"

namespace cpp::identity {

using labels::LabelSet;

namespace {

constexpr const char* kKind = "CiliumIdentity";
// Each failed attempt marks one more id as taken; only a store full of
// concurrent creators would need more.
constexpr int kMaxAttempts = 64;

}  // namespace

struct CrdAllocator::Impl : ClusterIdentityCache {
  store::ResourceStore& store;
  CrdAllocatorOptions opts;

  std::set<NumericIdentity> missing;  // held ids to check for (and re-create) in the store
  bool synced = false;
  bool stopping = false;

  // Serializes this node's creations, so two local allocations of new
  // labels never race each other for one id.
  std::mutex write_mu;
  std::mt19937 rng{std::random_device{}()};  // guarded by mu
  std::unique_ptr<store::WatchHandle> watch;  // sync thread, then the destructor
  std::thread sync_thread;

  Impl(store::ResourceStore& s, CrdAllocatorOptions o)
      : ClusterIdentityCache(o.cidr_state_file, o.world_split), store(s), opts(std::move(o)) {}

  bool in_range(NumericIdentity id) const { return id >= opts.cluster_min && id <= opts.cluster_max; }

  // --- local state (caller holds mu) -------------------------------------

  void cluster_put_locked(NumericIdentity id, const LabelSet& ls, std::vector<IdentityEvent>& ev) {
    ClusterIdentityCache::cluster_put_locked(id, ls, ev);
    if (auto h = held.find(id); h != held.end() && h->second.labels != ls) {
      spdlog::error("CiliumIdentity {} now names {}, but this node holds it for {}; keeping the local mapping", id,
                    ls.sorted_list(), h->second.labels.sorted_list());
    }
  }

  void persist_locked() const { write_state_file(opts.state_file, held); }

  void hold_locked(NumericIdentity id, const LabelSet& ls, const std::string& user, std::vector<IdentityEvent>& ev) {
    held[id] = IdentityRecord{id, ls, {user}};
    held_by_key[ls.sorted_list()] = id;
    refresh_locked(id, ev);
    persist_locked();
  }

  void restore() {
    auto valid = [this](NumericIdentity id) { return in_range(id); };
    for (auto& rec : read_state_file(opts.state_file, valid)) {
      held_by_key[rec.labels.sorted_list()] = rec.id;
      missing.insert(rec.id);
      held[rec.id] = std::move(rec);
    }
    std::vector<IdentityEvent> ignored;  // no observer exists yet
    for (const auto& [id, rec] : held) refresh_locked(id, ignored);
  }

  // --- the store ------------------------------------------------------------

  // (id, labels) of a CiliumIdentity in this allocator's range; nullopt (logged) otherwise.
  std::optional<std::pair<NumericIdentity, LabelSet>> parse(const nlohmann::json& obj) const {
    try {
      auto p = parse_cilium_identity(obj);
      if (in_range(p.first) && !p.second.empty()) return p;
      spdlog::warn("CiliumIdentity {}: outside the cluster identity range {}..{}; ignored", p.first, opts.cluster_min,
                   opts.cluster_max);
    } catch (const std::exception& e) {
      spdlog::warn("CiliumIdentity {}: {}; ignored", obj.value("metadata", nlohmann::json::object()).value("name", "?"),
                   e.what());
    }
    return std::nullopt;
  }

  void on_event(store::EventType t, const nlohmann::json& obj) {
    auto p = parse(obj);
    if (!p) return;
    std::vector<IdentityEvent> ev;
    {
      std::lock_guard<std::mutex> l(mu);
      if (t == store::EventType::Deleted) {
        cluster_erase_locked(p->first);
        refresh_locked(p->first, ev);
        if (held.count(p->first)) {
          missing.insert(p->first);
          cv.notify_all();
        }
      } else {
        cluster_put_locked(p->first, p->second, ev);
      }
    }
    notify(ev);
  }

  // A random free id, as upstream picks them: nodes creating identities at
  // the same time then rarely race for one id.
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

  // Claims a new id for `ls` (caller holds write_mu). A name that turns out
  // taken teaches the cache its labels; when they are ours (another node just
  // created them there) that id is used.
  Allocation create(const LabelSet& ls, std::vector<IdentityEvent>& ev) {
    std::set<NumericIdentity> taken;
    for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
      NumericIdentity id = pick_free(taken);
      if (store.create(cilium_identity_object(id, ls))) {
        std::lock_guard<std::mutex> l(mu);
        cluster_put_locked(id, ls, ev);
        return {id, true};
      }
      taken.insert(id);
      if (auto obj = store.get(kKind, "", std::to_string(id)))
        if (auto p = parse(*obj)) {
          std::lock_guard<std::mutex> l(mu);
          cluster_put_locked(p->first, p->second, ev);
          if (p->second == ls) return {id, false};
        }
    }
    throw std::runtime_error("identity allocation for " + ls.sorted_list() + ": no free CiliumIdentity name after " +
                             std::to_string(kMaxAttempts) + " attempts");
  }

  // Makes sure a held id exists in the store: created again when missing.
  void ensure(NumericIdentity id, const LabelSet& ls) {
    if (auto obj = store.get(kKind, "", std::to_string(id))) {
      auto p = parse(*obj);
      if (p && p->second != ls)
        spdlog::error("CiliumIdentity {} names {}, but this node holds it for {}; keeping the local mapping", id,
                      p->second.sorted_list(), ls.sorted_list());
      return;
    }
    if (store.create(cilium_identity_object(id, ls)))
      spdlog::info("CiliumIdentity {} re-created for {} (node {})", id, ls.sorted_list(), opts.node);
    else
      throw std::runtime_error("CiliumIdentity " + std::to_string(id) + " appeared while being re-created");
  }

  void list_and_watch() {
    std::map<NumericIdentity, LabelSet> fresh;
    for (const auto& obj : store.list(kKind))
      if (auto p = parse(obj)) fresh[p->first] = p->second;
    std::vector<IdentityEvent> ev;
    {
      std::lock_guard<std::mutex> l(mu);
      std::set<NumericIdentity> ids;
      for (const auto& [id, _] : cluster) ids.insert(id);
      for (const auto& [id, _] : fresh) ids.insert(id);
      cluster.clear();
      cluster_by_key.clear();
      for (const auto& [id, ls] : fresh) cluster_put_locked(id, ls, ev);
      for (auto id : ids) refresh_locked(id, ev);
    }
    notify(ev);
    // The replay repeats the list (harmless) and covers what changed since.
    watch = store.watch(kKind, [this](store::EventType t, const nlohmann::json& o) { on_event(t, o); });
    std::lock_guard<std::mutex> l(mu);
    synced = true;
    cv.notify_all();
  }

  void sync_loop() {
    bool last_failed = false;
    std::chrono::steady_clock::time_point last_warn{};
    auto next_resync = std::chrono::steady_clock::now() + opts.resync_interval;
    while (true) {
      {
        std::unique_lock<std::mutex> l(mu);
        if (last_failed)
          cv.wait_for(l, opts.retry_interval, [&] { return stopping; });
        else
          cv.wait_until(l, next_resync, [&] { return stopping || !synced || !missing.empty(); });
        if (stopping) return;
        if (std::chrono::steady_clock::now() >= next_resync) {
          for (const auto& [id, _] : held) missing.insert(id);
          next_resync = std::chrono::steady_clock::now() + opts.resync_interval;
        }
      }
      try {
        bool need_list;
        {
          std::lock_guard<std::mutex> l(mu);
          need_list = !synced;
        }
        if (need_list) list_and_watch();
        std::set<NumericIdentity> work;
        {
          std::lock_guard<std::mutex> l(mu);
          work = missing;
        }
        for (auto id : work) {
          std::lock_guard<std::mutex> w(write_mu);
          std::optional<LabelSet> ls;
          {
            std::lock_guard<std::mutex> l(mu);
            if (auto h = held.find(id); h != held.end()) ls = h->second.labels;
          }
          if (ls) ensure(id, *ls);
          std::lock_guard<std::mutex> l(mu);
          missing.erase(id);
        }
        last_failed = false;
      } catch (const std::exception& e) {
        last_failed = true;
        auto now = std::chrono::steady_clock::now();
        if (now - last_warn > std::chrono::seconds(10)) {
          spdlog::warn("CiliumIdentity sync: {}; retrying", e.what());
          last_warn = now;
        }
      }
    }
  }
};

CrdAllocator::CrdAllocator(store::ResourceStore& store, CrdAllocatorOptions opts)
    : impl_(std::make_unique<Impl>(store, std::move(opts))) {
  const auto& o = impl_->opts;
  if (o.cluster_min < kClusterMin || o.cluster_max < o.cluster_min || o.cluster_max >= kLocalScope)
    throw std::invalid_argument("CRD identity allocator: bad cluster identity range " + std::to_string(o.cluster_min) +
                                ".." + std::to_string(o.cluster_max));
  impl_->restore();
  impl_->sync_thread = std::thread([this] { impl_->sync_loop(); });
}

CrdAllocator::~CrdAllocator() {
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    impl_->stopping = true;
    impl_->cv.notify_all();
  }
  if (impl_->sync_thread.joinable()) impl_->sync_thread.join();
  if (impl_->watch) impl_->watch->stop();
  impl_->watch.reset();
}

IdentityAllocator::Allocation CrdAllocator::allocate(const LabelSet& ls, const std::string& user) {
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
      std::unique_lock<std::mutex> l(im.mu);
      if (auto it = im.held_by_key.find(key); it != im.held_by_key.end()) {
        auto& users = im.held.at(it->second).users;
        auto pos = std::lower_bound(users.begin(), users.end(), user);
        if (pos == users.end() || *pos != user) {
          users.insert(pos, user);
          im.persist_locked();
        }
        return {it->second, false};
      }
      if (!im.cv.wait_for(l, im.opts.sync_timeout, [&] { return im.synced; }))
        throw std::runtime_error("identity allocation for " + key + ": CiliumIdentities not listed yet");
      // Labels some node created: referencing them needs no write.
      if (auto c = im.cluster_lookup_locked(key)) {
        im.hold_locked(*c, ls, user, ev);
        a = {*c, false};
      }
    }
    if (!a.id) {
      a = im.create(ls, ev);
      std::lock_guard<std::mutex> l(im.mu);
      im.hold_locked(a.id, ls, user, ev);
    }
  }
  im.notify(ev);
  return a;
}

IdentityAllocator::Allocation CrdAllocator::allocate_cidr(const IpPrefix& prefix, const std::string& user) {
  return impl_->cidr.allocate_cidr(prefix, user);
}

bool CrdAllocator::release(NumericIdentity id, const std::string& user) {
  if (is_local_scope(id)) return impl_->cidr.release(id, user);
  auto& im = *impl_;
  std::vector<IdentityEvent> ev;
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
    // The object stays: the operator deletes it once no endpoint uses it.
    im.held_by_key.erase(it->second.labels.sorted_list());
    im.held.erase(it);
    im.refresh_locked(id, ev);
    im.persist_locked();
  }
  im.notify(ev);
  return true;
}

std::vector<NumericIdentity> CrdAllocator::release_user(const std::string& user) {
  return impl_->release_user(user, [&](NumericIdentity id) { return release(id, user); });
}

std::optional<LabelSet> CrdAllocator::lookup(NumericIdentity id) const { return impl_->lookup(id); }

std::optional<NumericIdentity> CrdAllocator::lookup(const LabelSet& ls) const { return impl_->lookup(ls); }

std::optional<IdentityRecord> CrdAllocator::get(NumericIdentity id) const { return impl_->get(id); }

std::vector<IdentityRecord> CrdAllocator::list(bool include_reserved) const { return impl_->list(include_reserved); }

uint64_t CrdAllocator::add_observer(IdentityObserver cb) { return impl_->add_observer(std::move(cb)); }

void CrdAllocator::remove_observer(uint64_t handle) { impl_->remove_observer(handle); }

bool CrdAllocator::synced() const {
  std::lock_guard<std::mutex> l(impl_->mu);
  return impl_->synced;
}

bool CrdAllocator::wait_synced(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> l(impl_->mu);
  return impl_->cv.wait_for(l, timeout, [&] { return impl_->synced; });
}

}  // namespace cpp::identity
