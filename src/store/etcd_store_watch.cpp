// EtcdStore::watch: list, then an etcd watch from the list's revision + 1.
// A supervisor thread owns the etcd watch: it does the first list when etcd
// was unreachable at watch() time, and re-lists (delivering the difference)
// when the watch's revision was compacted.
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "store/etcd_store.h"
#include "store/etcd_store_codec.h"

namespace cpp::store {
namespace {

// The watch state whose callback this thread is running, so that stop()
// called from inside a callback does not wait for itself.
thread_local const void* tl_delivering = nullptr;

struct EtcdWatchState {
  std::shared_ptr<kvstore::EtcdClient> etcd;
  std::string store_prefix;  // EtcdStore::prefix()
  const KindInfo* info = nullptr;
  std::string prefix;  // kind (and namespace) prefix watched
  WatchCallback cb;

  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  bool relist = false;

  // Only touched by whichever thread delivers: the caller of watch() during
  // the synchronous replay, then the supervisor while no etcd watch runs,
  // then the etcd watch's thread.
  std::map<ResourceKey, json> known;
  std::unique_ptr<kvstore::Watch> live;
  int64_t list_revision = 0;  // of the last list_until_answered

  bool is_stopping() {
    std::lock_guard<std::mutex> g(mu);
    return stopping;
  }

  void deliver(EventType t, const json& obj) {
    if (is_stopping()) return;
    const void* outer = tl_delivering;
    tl_delivering = this;
    try {
      cb(t, obj);
    } catch (const std::exception& e) {
      spdlog::error("store: watch callback failed on {} event: {}", to_string(t), e.what());
    }
    tl_delivering = outer;
  }

  // Replaces `known` with a fresh list; delivers the difference when `report`.
  void apply_list(const kvstore::RangeResult& r, bool report) {
    std::map<ResourceKey, json> now;
    for (const auto& kv : r.kvs)
      if (auto d = etcd_codec::decode(store_prefix, *info, kv)) now.emplace(std::move(d->first), std::move(d->second));
    if (report) {
      for (const auto& [k, obj] : now) {
        auto old = known.find(k);
        if (old == known.end())
          deliver(EventType::Added, obj);
        else if (old->second != obj)
          deliver(EventType::Modified, obj);
      }
      for (const auto& [k, obj] : known)
        if (!now.count(k)) deliver(EventType::Deleted, obj);
    }
    known = std::move(now);
  }

  void forget(const std::string& etcd_key) {
    auto rk = etcd_codec::parse_key(store_prefix, *info, etcd_key);
    if (!rk) return;
    auto it = known.find(*rk);
    if (it == known.end()) return;
    json last = std::move(it->second);
    known.erase(it);
    deliver(EventType::Deleted, last);
  }

  void on_events(const std::vector<kvstore::WatchEvent>& evs) {
    for (const auto& e : evs) {
      if (e.type == kvstore::WatchEvent::Type::Delete) {
        forget(e.kv.key);
      } else if (auto d = etcd_codec::decode(store_prefix, *info, e.kv)) {
        auto [it, added] = known.insert_or_assign(std::move(d->first), std::move(d->second));
        deliver(added ? EventType::Added : EventType::Modified, it->second);
      } else {
        forget(e.kv.key);  // turned corrupt: to readers it is gone, as in list()
      }
    }
  }

  static void start_live(const std::shared_ptr<EtcdWatchState>& st, int64_t revision) {
    std::weak_ptr<EtcdWatchState> weak = st;
    st->live = st->etcd->watch_prefix(
        st->prefix, revision + 1,
        [weak](const std::vector<kvstore::WatchEvent>& evs) {
          if (auto s = weak.lock()) s->on_events(evs);
        },
        [weak] {
          if (auto s = weak.lock()) {
            std::lock_guard<std::mutex> g(s->mu);
            s->relist = true;
            s->cv.notify_all();
          }
        });
  }

  // Lists until etcd answers or the watch stops; true when listed.
  bool list_until_answered(bool report) {
    auto backoff = std::chrono::milliseconds(200);
    bool warned = false;
    while (!is_stopping()) {
      try {
        if (etcd->reachable()) {
          auto r = etcd->get_prefix(prefix);
          apply_list(r, report);
          list_revision = r.revision;
          return true;
        }
      } catch (const std::exception& e) {
        if (!warned) spdlog::warn("store: watch {}: listing failed, retrying: {}", prefix, e.what());
        warned = true;
      }
      if (!warned) spdlog::warn("store: watch {}: etcd unreachable, retrying", prefix);
      warned = true;
      std::unique_lock<std::mutex> lk(mu);
      cv.wait_for(lk, backoff, [&] { return stopping; });
      backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
    }
    return false;
  }

  static void supervise(std::shared_ptr<EtcdWatchState> st, bool listed, bool replay) {
    if (!listed) {
      if (!st->list_until_answered(replay)) return;
      start_live(st, st->list_revision);
    }
    while (true) {
      {
        std::unique_lock<std::mutex> lk(st->mu);
        st->cv.wait(lk, [&] { return st->stopping || st->relist; });
        if (st->stopping) break;
        st->relist = false;
      }
      st->live->stop();
      st->live.reset();
      if (!st->list_until_answered(true)) break;
      start_live(st, st->list_revision);
    }
    if (st->live) st->live->stop();
  }
};

class EtcdWatch : public WatchHandle {
 public:
  EtcdWatch(std::shared_ptr<EtcdWatchState> st, bool listed, bool replay)
      : st_(std::move(st)), thread_(&EtcdWatchState::supervise, st_, listed, replay), tid_(thread_.get_id()) {}

  ~EtcdWatch() override {
    stop();
    if (std::this_thread::get_id() == tid_ || tl_delivering == st_.get()) thread_.detach();
  }

  void stop() override {
    {
      std::lock_guard<std::mutex> g(st_->mu);
      st_->stopping = true;
    }
    st_->cv.notify_all();
    // From inside a callback: the threads wind down once it returns.
    if (std::this_thread::get_id() == tid_ || tl_delivering == st_.get()) return;
    std::lock_guard<std::mutex> g(join_mu_);
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::shared_ptr<EtcdWatchState> st_;
  std::mutex join_mu_;
  std::thread thread_;
  const std::thread::id tid_;
};

}  // namespace

std::unique_ptr<WatchHandle> EtcdStore::watch(const std::string& kind, WatchCallback cb, WatchOptions opts) {
  const KindInfo* info = find_kind(kind);
  if (!info) throw std::invalid_argument("unknown kind \"" + kind + "\"");
  auto st = std::make_shared<EtcdWatchState>();
  st->etcd = etcd_;
  st->store_prefix = prefix_;
  st->info = info;
  st->prefix = etcd_codec::kind_prefix(prefix_, *info, opts.ns);
  st->cb = std::move(cb);
  // Synchronous replay when etcd answers now; otherwise the supervisor
  // delivers it once etcd does (documented in etcd_store.h).
  bool listed = false;
  try {
    if (etcd_->reachable()) {
      auto r = etcd_->get_prefix(st->prefix);
      st->apply_list(r, opts.replay_existing);
      EtcdWatchState::start_live(st, r.revision);
      listed = true;
    }
  } catch (const std::exception& e) {
    spdlog::warn("store: watch {}: first list failed, continuing in the background: {}", st->prefix, e.what());
  }
  if (!listed) spdlog::warn("store: watch {}: etcd unreachable, the replay follows when it answers", st->prefix);
  return std::make_unique<EtcdWatch>(std::move(st), listed, opts.replay_existing);
}

}  // namespace cpp::store
