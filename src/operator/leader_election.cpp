#include "operator/leader_election.h"

#include <condition_variable>
#include <thread>

#include "common/log.h"

namespace cpp::op {

namespace kv = cpp::kvstore;

LeaderElection::LeaderElection(kv::EtcdClient& etcd, std::string key, std::string holder, int64_t ttl_seconds)
    : etcd_(etcd), key_(std::move(key)), holder_(std::move(holder)), ttl_(ttl_seconds) {}

LeaderElection::~LeaderElection() {
  std::lock_guard<std::mutex> l(mu_);
  lease_.reset();
}

bool LeaderElection::try_acquire() {
  std::unique_ptr<kv::LeaseKeeper> lease;
  lost_ = false;
  lease = etcd_.keep_alive(ttl_, [this] { lost_ = true; });
  int64_t lease_id = lease->id();
  bool won = false;
  try {
    auto r = etcd_.txn({kv::Compare::absent(key_)}, {kv::TxnOp::put(key_, holder_, lease_id)});
    won = r.succeeded;
  } catch (const kv::UnknownOutcome&) {
    // Re-read: the put may have landed.
    auto cur = etcd_.get(key_);
    won = cur && cur->value == holder_ && cur->lease == lease_id;
  }
  if (!won) {
    lease->revoke();
    return false;
  }
  std::lock_guard<std::mutex> l(mu_);
  lease_ = std::move(lease);
  return true;
}

void LeaderElection::wait_for_vacancy(int64_t revision, const std::atomic<bool>& stop) {
  std::mutex m;
  std::condition_variable cv;
  bool vacant = false;
  auto watch = etcd_.watch_prefix(
      key_, revision + 1,
      [&](const std::vector<kv::WatchEvent>& evs) {
        for (const auto& e : evs)
          if (e.type == kv::WatchEvent::Type::Delete && e.kv.key == key_) {
            std::lock_guard<std::mutex> l(m);
            vacant = true;
            cv.notify_all();
          }
      },
      [&] {
        std::lock_guard<std::mutex> l(m);
        vacant = true;  // compacted: just look again
        cv.notify_all();
      });
  // The watch is the fast path; the periodic read covers a watch that broke.
  auto next_check = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (!stop) {
    {
      std::unique_lock<std::mutex> l(m);
      if (cv.wait_for(l, std::chrono::milliseconds(100), [&] { return vacant; })) break;
    }
    if (std::chrono::steady_clock::now() >= next_check) {
      next_check = std::chrono::steady_clock::now() + std::chrono::seconds(1);
      try {
        if (!etcd_.get(key_)) break;
      } catch (const std::exception&) {
      }
    }
  }
  watch->stop();
}

bool LeaderElection::campaign(const std::atomic<bool>& stop) {
  std::string last_leader;
  while (!stop) {
    try {
      if (try_acquire()) return true;
      auto cur = etcd_.get_prefix(key_);
      std::string leader;
      for (const auto& kv : cur.kvs)
        if (kv.key == key_) leader = kv.value;
      if (leader.empty()) continue;  // vanished between the txn and the read
      if (leader != last_leader) spdlog::info("standing by: {} leads", leader);
      last_leader = leader;
      wait_for_vacancy(cur.revision, stop);
    } catch (const std::exception& e) {
      spdlog::warn("leader election: {}; retrying", e.what());
      for (int i = 0; i < 10 && !stop; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  return false;
}

bool LeaderElection::leading() const {
  std::lock_guard<std::mutex> l(mu_);
  return lease_ && !lost_ && lease_->alive();
}

void LeaderElection::resign() {
  std::unique_ptr<kv::LeaseKeeper> lease;
  {
    std::lock_guard<std::mutex> l(mu_);
    lease = std::move(lease_);
  }
  if (lease) lease->revoke();
}

std::string LeaderElection::current_leader() {
  try {
    auto kv = etcd_.get(key_);
    return kv ? kv->value : "";
  } catch (const std::exception&) {
    return "";
  }
}

}  // namespace cpp::op
