// EtcdClient against a real 3-member cluster: failover when the leader dies,
// and the failure mode when every member is down.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "etcd_fixture.h"
#include "kvstore/etcd_client.h"

using namespace cpp::kvstore;
using namespace std::chrono_literals;
using kvtest::EtcdCluster;
using kvtest::eventually;
using Clock = std::chrono::steady_clock;

namespace {

// Endpoints with member `first` first: the client prefers it, so its watch
// and its writes sit on that member.
EtcdOptions options_with_first(const EtcdCluster& c, int first, std::chrono::milliseconds timeout) {
  std::vector<std::string> endpoints{c.endpoint(first)};
  for (int i = 0; i < c.size(); ++i)
    if (i != first) endpoints.push_back(c.endpoint(i));
  return kvtest::client_options(std::move(endpoints), timeout);
}

struct Revisions {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<int64_t> revs;
  void add(const std::vector<WatchEvent>& evs) {
    std::lock_guard<std::mutex> g(mu);
    for (const auto& e : evs) revs.push_back(e.kv.mod_revision);
    cv.notify_all();
  }
  bool wait_for(size_t n, std::chrono::milliseconds d = 60s) {
    std::unique_lock<std::mutex> lk(mu);
    return cv.wait_for(lk, d, [&] { return revs.size() >= n; });
  }
  std::vector<int64_t> snapshot() {
    std::lock_guard<std::mutex> g(mu);
    return revs;
  }
};

// What a caller does with a write whose outcome is unknown: re-read, and
// write again only if it did not land. Returns the attempts it took.
int write_until_done(EtcdClient& c, const std::string& key, const std::string& value) {
  auto deadline = Clock::now() + 60s;
  for (int attempt = 1;; ++attempt) {
    try {
      c.put(key, value);
      return attempt;
    } catch (const UnknownOutcome&) {
    } catch (const Unavailable&) {
    }
    if (Clock::now() > deadline) throw std::runtime_error("write of " + key + " never succeeded");
    try {
      auto cur = c.get(key);
      if (cur && cur->value == value) return attempt;
    } catch (const Unavailable&) {
    }
  }
}

}  // namespace

TEST(EtcdClusterTest, LeaderKilledWritesRecoverAndWatchLosesNothing) {
  EtcdCluster etcd(3);
  int leader = etcd.leader();
  EtcdClient client(options_with_first(etcd, leader, 10s));

  int64_t start = client.put("c/start", "");
  Revisions seen;
  auto w = client.watch_prefix("c/", start + 1, [&](const std::vector<WatchEvent>& evs) { seen.add(evs); });
  for (int i = 0; i < 10; ++i) client.put("c/" + std::to_string(i), std::to_string(i));
  ASSERT_TRUE(seen.wait_for(10));

  etcd.kill(leader);
  auto killed_at = Clock::now();
  int attempts = 0;
  Clock::duration first_write{};
  for (int i = 10; i < 30; ++i) {
    attempts += write_until_done(client, "c/" + std::to_string(i), std::to_string(i));
    if (i == 10) first_write = Clock::now() - killed_at;
  }
  int new_leader = etcd.leader();
  EXPECT_NE(new_leader, leader);
  std::printf("[ measure ] first write after leader SIGKILL: %lld ms, %d attempts for 20 writes\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(first_write).count()),
              attempts);

  etcd.start(leader);
  etcd.wait_healthy(leader);
  for (int i = 30; i < 35; ++i) client.put("c/" + std::to_string(i), std::to_string(i));
  int64_t end = client.get("c/34")->mod_revision;

  // Only this test writes, so the revisions after `start` are exactly the
  // watched writes: the watch must have delivered each one, once, in order.
  ASSERT_TRUE(seen.wait_for(static_cast<size_t>(end - start)));
  w->stop();
  auto revs = seen.snapshot();
  ASSERT_EQ(revs.size(), static_cast<size_t>(end - start));
  for (size_t i = 0; i < revs.size(); ++i) EXPECT_EQ(revs[i], start + 1 + static_cast<int64_t>(i));
  for (int i = 0; i < 35; ++i) EXPECT_EQ(client.get("c/" + std::to_string(i))->value, std::to_string(i));
}

TEST(EtcdClusterTest, AllMembersDownIsUnavailableWithinDeadline) {
  EtcdCluster etcd(3);
  EtcdClient client(options_with_first(etcd, 0, 3s));
  client.put("k", "v");
  std::mutex mu;
  bool lost = false;
  auto keeper = client.keep_alive(2, [&] {
    std::lock_guard<std::mutex> g(mu);
    lost = true;
  });

  for (int i = 0; i < etcd.size(); ++i) etcd.kill(i);
  auto t0 = Clock::now();
  EXPECT_THROW(client.get("k"), Unavailable);
  auto took = Clock::now() - t0;
  EXPECT_GE(took, 2900ms);
  EXPECT_LT(took, 5s);
  t0 = Clock::now();
  EXPECT_THROW(client.put("k", "w"), Unavailable);
  EXPECT_LT(Clock::now() - t0, 5s);
  EXPECT_FALSE(client.reachable());

  // The keeper cannot refresh: the lease is reported lost once it expired.
  EXPECT_TRUE(eventually(
      [&] {
        std::lock_guard<std::mutex> g(mu);
        return lost;
      },
      15s));
  EXPECT_FALSE(keeper->alive());

  for (int i = 0; i < etcd.size(); ++i) etcd.start(i);
  for (int i = 0; i < etcd.size(); ++i) etcd.wait_healthy(i);
  EXPECT_EQ(client.get("k")->value, "v");
  client.put("k", "w");
  EXPECT_EQ(client.get("k")->value, "w");
}
