// EtcdClient against one real etcd member.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "etcd_fixture.h"
#include "kvstore/etcd_client.h"

using namespace cpp::kvstore;
using namespace std::chrono_literals;
using kvtest::EtcdCluster;
using kvtest::eventually;

namespace {

EtcdOptions options_for(const EtcdCluster& c, std::chrono::milliseconds timeout = 10s) {
  return kvtest::client_options(c.endpoints(), timeout);
}

// Collects watch events; waits for a count.
struct EventLog {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<WatchEvent> events;
  int batches = 0;
  bool compacted = false;

  std::function<void(const std::vector<WatchEvent>&)> sink() {
    return [this](const std::vector<WatchEvent>& evs) {
      std::lock_guard<std::mutex> g(mu);
      events.insert(events.end(), evs.begin(), evs.end());
      ++batches;
      cv.notify_all();
    };
  }
  std::function<void()> on_compacted() {
    return [this] {
      std::lock_guard<std::mutex> g(mu);
      compacted = true;
      cv.notify_all();
    };
  }
  bool wait_for(size_t n, std::chrono::milliseconds d = 30s) {
    std::unique_lock<std::mutex> lk(mu);
    return cv.wait_for(lk, d, [&] { return events.size() >= n; });
  }
  bool wait_compacted(std::chrono::milliseconds d = 30s) {
    std::unique_lock<std::mutex> lk(mu);
    return cv.wait_for(lk, d, [&] { return compacted; });
  }
  std::vector<WatchEvent> snapshot() {
    std::lock_guard<std::mutex> g(mu);
    return events;
  }
};

class EtcdClientTest : public ::testing::Test {
 protected:
  EtcdCluster etcd{1};
  EtcdClient client{options_for(etcd)};
};

}  // namespace

TEST_F(EtcdClientTest, PutGetPrefixDelete) {
  EXPECT_TRUE(client.reachable());
  EXPECT_FALSE(client.get("t/missing"));

  int64_t r1 = client.put("t/a", "1");
  int64_t r2 = client.put("t/b", "2");
  int64_t r3 = client.put("t/a", "3");
  client.put("u/other", "x");
  EXPECT_LT(r1, r2);
  EXPECT_LT(r2, r3);

  auto a = client.get("t/a");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->value, "3");
  EXPECT_EQ(a->create_revision, r1);
  EXPECT_EQ(a->mod_revision, r3);
  EXPECT_EQ(a->version, 2);

  auto range = client.get_prefix("t/");
  ASSERT_EQ(range.kvs.size(), 2u);
  EXPECT_EQ(range.kvs[0].key, "t/a");
  EXPECT_EQ(range.kvs[1].key, "t/b");
  EXPECT_GE(range.revision, r3 + 1);  // the u/other put came after

  // Binary-safe keys and values, and a prefix whose last byte is 0xff.
  std::string bin("v\0\xff", 3);
  client.put(std::string("p\xff", 2) + "k", bin);
  auto got = client.get(std::string("p\xff", 2) + "k");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->value, bin);
  EXPECT_EQ(client.get_prefix(std::string("p\xff", 2)).kvs.size(), 1u);

  EXPECT_EQ(client.del("t/a"), 1);
  EXPECT_EQ(client.del("t/a"), 0);
  EXPECT_FALSE(client.get("t/a"));
  client.put("t/c", "c");
  EXPECT_EQ(client.del_prefix("t/"), 2);
  EXPECT_TRUE(client.get_prefix("t/").kvs.empty());
  EXPECT_TRUE(client.get("u/other"));
}

TEST_F(EtcdClientTest, TxnCompareSemantics) {
  // Create-if-absent: only the first succeeds.
  auto t1 = client.txn({Compare::absent("k")}, {TxnOp::put("k", "first")}, {TxnOp::get("k")});
  EXPECT_TRUE(t1.succeeded);
  ASSERT_EQ(t1.reads.size(), 1u);
  EXPECT_TRUE(t1.reads[0].empty());  // a put fills no read
  auto t2 = client.txn({Compare::absent("k")}, {TxnOp::put("k", "second")}, {TxnOp::get("k")});
  EXPECT_FALSE(t2.succeeded);
  ASSERT_EQ(t2.reads.size(), 1u);
  ASSERT_EQ(t2.reads[0].size(), 1u);
  EXPECT_EQ(t2.reads[0][0].value, "first");
  EXPECT_EQ(t2.revision, t1.revision);  // nothing written

  // Compare-and-swap on mod_revision.
  auto cur = client.get("k");
  ASSERT_TRUE(cur);
  EXPECT_FALSE(client.txn({Compare::mod_revision_is("k", cur->mod_revision - 1)}, {TxnOp::put("k", "x")}).succeeded);
  auto swap = client.txn({Compare::mod_revision_is("k", cur->mod_revision)}, {TxnOp::put("k", "swapped")});
  EXPECT_TRUE(swap.succeeded);
  EXPECT_EQ(client.get("k")->mod_revision, swap.revision);

  // Value comparison, several ops, and the other comparison operators.
  EXPECT_FALSE(client.txn({Compare::value_is("k", "first")}, {TxnOp::del("k")}).succeeded);
  Compare newer{"k", Compare::Target::Version, Compare::Op::Greater, 1, {}};
  Compare older{"k", Compare::Target::Version, Compare::Op::Less, 2, {}};
  Compare not_x{"k", Compare::Target::Value, Compare::Op::NotEqual, 0, "x"};
  EXPECT_TRUE(client.txn({newer, not_x}, {}).succeeded);
  EXPECT_FALSE(client.txn({older}, {}).succeeded);
  client.put("g/1", "a");
  client.put("g/2", "b");
  TxnOp get_all{TxnOp::Kind::GetPrefix, "g/", {}, 0};
  TxnOp del_all{TxnOp::Kind::DeletePrefix, "g/", {}, 0};
  auto multi = client.txn({Compare::value_is("k", "swapped")}, {get_all, del_all, TxnOp::put("k", "done")});
  EXPECT_TRUE(multi.succeeded);
  ASSERT_EQ(multi.reads.size(), 3u);
  EXPECT_EQ(multi.reads[0].size(), 2u);
  EXPECT_TRUE(client.get_prefix("g/").kvs.empty());
  EXPECT_EQ(client.get("k")->value, "done");
}

TEST_F(EtcdClientTest, LeaseExpiryRemovesKeysKeepAliveKeepsThem) {
  int64_t short_lease = client.lease_grant(2);
  client.put("lease/expiring", "v", short_lease);
  EXPECT_EQ(client.get("lease/expiring")->lease, short_lease);

  bool lost = false;
  std::mutex mu;
  auto kept = client.keep_alive(2, [&] {
    std::lock_guard<std::mutex> g(mu);
    lost = true;
  });
  ASSERT_TRUE(kept->alive());
  client.put("lease/kept", "v", kept->id());

  EXPECT_TRUE(eventually([&] { return !client.get("lease/expiring"); }, 15s));
  // Three TTLs later the kept key is still there (the expiring one is gone by now).
  std::this_thread::sleep_for(6s);
  EXPECT_TRUE(client.get("lease/kept"));
  EXPECT_TRUE(kept->alive());

  // Revoked behind the keeper's back: it notices and reports the loss.
  client.lease_revoke(kept->id());
  EXPECT_FALSE(client.get("lease/kept"));
  EXPECT_TRUE(eventually(
      [&] {
        std::lock_guard<std::mutex> g(mu);
        return lost;
      },
      10s));
  EXPECT_FALSE(kept->alive());

  // revoke() drops the keys at once.
  auto other = client.keep_alive(30);
  client.put("lease/revoked", "v", other->id());
  other->revoke();
  EXPECT_FALSE(other->alive());
  EXPECT_FALSE(client.get("lease/revoked"));
  client.lease_revoke(other->id());  // twice is harmless
}

TEST_F(EtcdClientTest, WatchDeliversOrderedEventsAndResumesAfterMemberRestart) {
  int64_t before = client.put("w/old", "0");
  EventLog log;
  // From an old revision: history is replayed first.
  auto w = client.watch_prefix("w/", before, log.sink(), log.on_compacted());
  for (int i = 0; i < 20; ++i) client.put("w/k" + std::to_string(i % 5), std::to_string(i));
  client.del("w/old");
  client.put("x/ignored", "1");
  ASSERT_TRUE(log.wait_for(22));

  etcd.kill(0);
  etcd.start(0);
  etcd.wait_healthy(0);
  for (int i = 20; i < 30; ++i) client.put("w/k" + std::to_string(i % 5), std::to_string(i));
  ASSERT_TRUE(log.wait_for(32));
  w->stop();
  client.put("w/after-stop", "1");

  auto evs = log.snapshot();
  ASSERT_EQ(evs.size(), 32u);
  EXPECT_EQ(evs[0].kv.key, "w/old");
  EXPECT_EQ(evs[0].kv.mod_revision, before);
  for (size_t i = 1; i < evs.size(); ++i) EXPECT_GT(evs[i].kv.mod_revision, evs[i - 1].kv.mod_revision);
  EXPECT_EQ(evs[21].type, WatchEvent::Type::Delete);
  EXPECT_EQ(evs[21].kv.key, "w/old");
  for (int i = 0; i < 30; ++i) {
    const auto& e = evs[i < 20 ? i + 1 : i + 2];
    EXPECT_EQ(e.type, WatchEvent::Type::Put);
    EXPECT_EQ(e.kv.value, std::to_string(i));
  }
  std::this_thread::sleep_for(300ms);  // a stopped watch must stay silent
  EXPECT_EQ(log.snapshot().size(), 32u);
}

TEST_F(EtcdClientTest, WatchFromNowAndStopFromCallback) {
  client.put("n/before", "x");
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> keys;
  std::unique_ptr<Watch> w;
  std::mutex w_mu;
  {
    std::lock_guard<std::mutex> g(w_mu);
    w = client.watch_prefix("n/", 0, [&](const std::vector<WatchEvent>& evs) {
      {
        std::lock_guard<std::mutex> g(mu);
        for (const auto& e : evs) keys.push_back(e.kv.key);
        cv.notify_all();
      }
      std::lock_guard<std::mutex> g(w_mu);
      w->stop();
    });
  }
  // The watch starts "now": wait until it is live by writing until an event arrives.
  ASSERT_TRUE(eventually(
      [&] {
        client.put("n/probe", "p");
        std::lock_guard<std::mutex> g(mu);
        return !keys.empty();
      },
      20s));
  client.put("n/after", "y");
  std::this_thread::sleep_for(300ms);
  std::lock_guard<std::mutex> g(mu);
  ASSERT_FALSE(keys.empty());
  for (const auto& k : keys) EXPECT_EQ(k, "n/probe");  // not n/before (older) nor n/after (stopped)
}

TEST_F(EtcdClientTest, CompactedStartRevisionIsReported) {
  int64_t first = client.put("c/k", "1");
  for (int i = 2; i < 10; ++i) client.put("c/k", std::to_string(i));
  int64_t last = client.put("c/k", "10");
  etcd.etcdctl(0, "compact " + std::to_string(last));
  EventLog log;
  auto w = client.watch_prefix("c/", first, log.sink(), log.on_compacted());
  EXPECT_TRUE(log.wait_compacted());
  EXPECT_TRUE(log.snapshot().empty());
}

TEST_F(EtcdClientTest, MemberDownIsUnavailableWithinDeadline) {
  EtcdClient fast(options_for(etcd, 2s));
  EXPECT_TRUE(fast.reachable());
  etcd.kill(0);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_THROW(fast.get("k"), Unavailable);
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, 4s);
  EXPECT_GE(took, 1900ms);
  EXPECT_THROW(fast.put("k", "v"), Unavailable);  // never sent: not "unknown outcome"
  EXPECT_FALSE(fast.reachable());
  etcd.start(0);
  etcd.wait_healthy(0);
  EXPECT_TRUE(eventually([&] { return fast.reachable(); }));
  EXPECT_GT(fast.put("k", "v"), 0);
}

TEST(EtcdClientConfig, BadEndpointsAreRefused) {
  EtcdOptions o;
  EXPECT_THROW(EtcdClient{o}, std::invalid_argument);
  o.endpoints = {"https://127.0.0.1:2379"};
  EXPECT_THROW(EtcdClient{o}, std::invalid_argument);
  o.endpoints = {"127.0.0.1"};
  EXPECT_THROW(EtcdClient{o}, std::invalid_argument);
}
