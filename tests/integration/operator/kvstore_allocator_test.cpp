// KvstoreAllocator (identity-allocation-mode: kvstore) against a real etcd:
// two allocators with their own clients stand for two nodes.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "etcd_fixture.h"
#include "identity/kvstore_allocator.h"
#include "kvstore/etcd_client.h"
#include "operator/identity_gc.h"

using namespace cpp;
using namespace cpp::identity;
using namespace std::chrono_literals;
using kvtest::EtcdCluster;
using kvtest::eventually;

namespace {

kvstore::EtcdOptions options_for(const EtcdCluster& c) { return kvtest::client_options(c.endpoints()); }

labels::LabelSet L(const std::string& app) {
  return labels::LabelSet::parse({"k8s:app=" + app, "k8s:io.kubernetes.pod.namespace=default"});
}

std::string id_key(NumericIdentity id) { return std::string(kvstore::keys::kIdentityId) + std::to_string(id); }
std::string value_key(const labels::LabelSet& ls, const std::string& node) {
  return std::string(kvstore::keys::kIdentityValue) + ls.sorted_list() + "/" + node;
}

struct Events {
  std::mutex mu;
  std::vector<IdentityEvent> ev;
  IdentityObserver sink() {
    return [this](const IdentityEvent& e) {
      std::lock_guard<std::mutex> l(mu);
      ev.push_back(e);
    };
  }
  bool has(IdentityEvent::Type t, NumericIdentity id, const labels::LabelSet& ls) {
    std::lock_guard<std::mutex> l(mu);
    for (const auto& e : ev)
      if (e.type == t && e.id == id && e.labels == ls) return true;
    return false;
  }
};

class KvstoreAllocatorTest : public kvtest::SharedEtcdTest {
 protected:
  void SetUp() override {
    admin_ = std::make_unique<kvstore::EtcdClient>(options_for(*cluster_));
    admin_->del_prefix("cilium/");
    dir_ = std::filesystem::temp_directory_path() / ("cpp-kvalloc-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  struct Node {
    std::unique_ptr<kvstore::EtcdClient> etcd;
    std::unique_ptr<KvstoreAllocator> ids;
  };
  Node node(const std::string& name, bool with_state = false) {
    Node n;
    n.etcd = std::make_unique<kvstore::EtcdClient>(options_for(*cluster_));
    KvstoreAllocatorOptions o;
    o.node = name;
    o.lease_ttl_seconds = 5;
    o.retry_interval = 200ms;
    if (with_state) o.state_file = (dir_ / (name + "-ids.json")).string();
    n.ids = std::make_unique<KvstoreAllocator>(*n.etcd, o);
    EXPECT_TRUE(n.ids->wait_synced(20s));
    return n;
  }

  std::unique_ptr<kvstore::EtcdClient> admin_;
  std::filesystem::path dir_;
};

TEST_F(KvstoreAllocatorTest, TwoNodesGetTheSameIdForTheSameLabels) {
  auto a = node("node-a");
  auto b = node("node-b");
  auto x = a.ids->allocate(L("web"), "endpoint:1");
  EXPECT_TRUE(x.is_new);
  EXPECT_TRUE(is_cluster(x.id));
  auto y = b.ids->allocate(L("web"), "endpoint:7");
  EXPECT_EQ(y.id, x.id);
  EXPECT_FALSE(y.is_new);
  // Upstream layout: id -> labels, one leased value key per node.
  auto idk = admin_->get(id_key(x.id));
  ASSERT_TRUE(idk);
  EXPECT_EQ(idk->value, L("web").sorted_list());
  EXPECT_EQ(idk->lease, 0);
  for (const char* n : {"node-a", "node-b"}) {
    auto v = admin_->get(value_key(L("web"), n));
    ASSERT_TRUE(v) << n;
    EXPECT_EQ(v->value, std::to_string(x.id));
    EXPECT_NE(v->lease, 0);
  }
}

TEST_F(KvstoreAllocatorTest, DifferentLabelsGetDifferentIdsAndReleaseDropsTheNodesReference) {
  auto a = node("node-a");
  auto x = a.ids->allocate(L("web"), "endpoint:1");
  auto y = a.ids->allocate(L("db"), "endpoint:2");
  EXPECT_NE(x.id, y.id);
  EXPECT_EQ(a.ids->allocate(L("web"), "endpoint:3").id, x.id);  // second user, no new key
  EXPECT_FALSE(a.ids->release(x.id, "endpoint:1"));
  EXPECT_TRUE(admin_->get(value_key(L("web"), "node-a")));
  EXPECT_TRUE(a.ids->release(x.id, "endpoint:3"));
  EXPECT_TRUE(eventually([&] { return !admin_->get(value_key(L("web"), "node-a")); }));
  // The id itself stays until the operator's GC: other nodes may still use it.
  EXPECT_TRUE(admin_->get(id_key(x.id)));
  EXPECT_EQ(a.ids->lookup(x.id), L("web"));
}

TEST_F(KvstoreAllocatorTest, ReleaseThenAllocateAgainKeepsTheReference) {
  auto a = node("node-a");
  for (int i = 0; i < 20; ++i) {
    auto x = a.ids->allocate(L("flap"), "endpoint:1");
    a.ids->release(x.id, "endpoint:1");
  }
  auto x = a.ids->allocate(L("flap"), "endpoint:1");
  // Queued deletes of earlier releases find the id held again and re-write
  // the key instead: it exists from now on, also after they ran.
  for (int i = 0; i < 20; ++i) {
    auto v = admin_->get(value_key(L("flap"), "node-a"));
    ASSERT_TRUE(v && v->value == std::to_string(x.id)) << "round " << i;
    std::this_thread::sleep_for(50ms);
  }
}

TEST_F(KvstoreAllocatorTest, ConcurrentAllocationFromTwoNodesNeverDuplicates) {
  auto a = node("node-a");
  auto b = node("node-b");
  constexpr int kShared = 40, kOwn = 20;
  std::map<std::string, NumericIdentity> got_a, got_b;
  auto run = [&](Node& n, std::map<std::string, NumericIdentity>& got, const std::string& own, bool reverse) {
    std::vector<std::string> apps;
    for (int i = 0; i < kShared; ++i) apps.push_back("shared-" + std::to_string(i));
    for (int i = 0; i < kOwn; ++i) apps.push_back(own + "-" + std::to_string(i));
    if (reverse) std::reverse(apps.begin(), apps.end());
    for (const auto& app : apps) got[app] = n.ids->allocate(L(app), "u").id;
  };
  std::thread ta([&] { run(a, got_a, "only-a", false); });
  std::thread tb([&] { run(b, got_b, "only-b", true); });
  ta.join();
  tb.join();
  std::map<NumericIdentity, std::string> owner;
  auto claim = [&](const std::string& app, NumericIdentity id) {
    auto [it, fresh] = owner.emplace(id, app);
    EXPECT_TRUE(fresh || it->second == app) << "id " << id << " given to " << it->second << " and " << app;
  };
  for (int i = 0; i < kShared; ++i) {
    std::string app = "shared-" + std::to_string(i);
    EXPECT_EQ(got_a[app], got_b[app]) << app;
  }
  for (const auto& [app, id] : got_a) claim(app, id);
  for (const auto& [app, id] : got_b) claim(app, id);
  // etcd holds exactly one id key per label set.
  std::map<std::string, int> per_labels;
  for (const auto& kv : admin_->get_prefix(kvstore::keys::kIdentityId).kvs) per_labels[kv.value]++;
  EXPECT_EQ(per_labels.size(), size_t(kShared + 2 * kOwn));
  for (const auto& [ls, n] : per_labels) EXPECT_EQ(n, 1) << ls;
}

TEST_F(KvstoreAllocatorTest, SameNewLabelsFromTwoNodesAtOnceSettleOnOneId) {
  auto a = node("node-a");
  auto b = node("node-b");
  constexpr int kLabels = 40;
  std::vector<NumericIdentity> got_a(kLabels), got_b(kLabels);
  // Same order on both nodes: every label set is created by both at once.
  std::thread ta([&] {
    for (int i = 0; i < kLabels; ++i) got_a[i] = a.ids->allocate(L("race-" + std::to_string(i)), "u").id;
  });
  std::thread tb([&] {
    for (int i = 0; i < kLabels; ++i) got_b[i] = b.ids->allocate(L("race-" + std::to_string(i)), "u").id;
  });
  ta.join();
  tb.join();
  EXPECT_EQ(got_a, got_b);
  std::map<std::string, int> per_labels;
  for (const auto& kv : admin_->get_prefix(kvstore::keys::kIdentityId).kvs) per_labels[kv.value]++;
  EXPECT_EQ(per_labels.size(), size_t(kLabels));
  for (const auto& [ls, n] : per_labels) EXPECT_EQ(n, 1) << ls;
}

TEST_F(KvstoreAllocatorTest, ObserversSeeIdentitiesOfOtherNodes) {
  auto a = node("node-a");
  auto b = node("node-b");
  Events seen;
  b.ids->add_observer(seen.sink());
  EXPECT_TRUE(seen.has(IdentityEvent::Type::Added, kHost, labels::reserved_label_set("host")));
  auto x = a.ids->allocate(L("remote"), "endpoint:1");
  EXPECT_TRUE(eventually([&] { return seen.has(IdentityEvent::Type::Added, x.id, L("remote")); }));
  EXPECT_EQ(b.ids->lookup(x.id), L("remote"));
  EXPECT_EQ(b.ids->lookup(L("remote")), x.id);
  // The id key going away (GC) is a removal everywhere.
  a.ids->release(x.id, "endpoint:1");
  admin_->del(id_key(x.id));
  EXPECT_TRUE(eventually([&] { return seen.has(IdentityEvent::Type::Removed, x.id, L("remote")); }));
  EXPECT_FALSE(b.ids->lookup(x.id));
}

TEST_F(KvstoreAllocatorTest, DeadNodesReferencesVanishWithItsLease) {
  auto a = node("node-a");
  auto b = node("node-b");
  auto x = a.ids->allocate(L("web"), "endpoint:1");
  b.ids->allocate(L("web"), "endpoint:2");
  a.ids->shutdown(true);  // the node's session lease ends, as when it dies and the TTL passes
  EXPECT_TRUE(eventually([&] { return !admin_->get(value_key(L("web"), "node-a")); }));
  EXPECT_TRUE(admin_->get(value_key(L("web"), "node-b")));
  EXPECT_TRUE(admin_->get(id_key(x.id)));
}

TEST_F(KvstoreAllocatorTest, LostLeaseIsReplacedAndReferencesRewritten) {
  auto a = node("node-a");
  auto x = a.ids->allocate(L("web"), "endpoint:1");
  int64_t old_lease = a.ids->lease_id();
  ASSERT_NE(old_lease, 0);
  admin_->lease_revoke(old_lease);  // what an expiry during a partition does
  EXPECT_TRUE(eventually(
      [&] {
        auto v = admin_->get(value_key(L("web"), "node-a"));
        return v && v->value == std::to_string(x.id) && v->lease != 0 && v->lease != old_lease;
      },
      30s));
}

TEST_F(KvstoreAllocatorTest, GcedIdHeldByANodeIsRecreatedUnderTheSameId) {
  auto a = node("node-a");
  auto x = a.ids->allocate(L("web"), "endpoint:1");
  admin_->del(id_key(x.id));
  EXPECT_TRUE(eventually([&] {
    auto k = admin_->get(id_key(x.id));
    return k && k->value == L("web").sorted_list();
  }));
}

TEST_F(KvstoreAllocatorTest, RestartKeepsIdsFromTheStateFile) {
  NumericIdentity id;
  {
    auto a = node("node-a", true);
    id = a.ids->allocate(L("web"), "endpoint:1").id;
  }
  auto a = node("node-a", true);
  EXPECT_EQ(a.ids->lookup(L("web")), id);
  auto rec = a.ids->get(id);
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->users, std::vector<std::string>{"endpoint:1"});
  EXPECT_TRUE(eventually([&] {
    auto v = admin_->get(value_key(L("web"), "node-a"));
    return v && v->lease == a.ids->lease_id();
  }));
}

TEST_F(KvstoreAllocatorTest, CidrIdentitiesStayNodeLocal) {
  auto a = node("node-a");
  Events seen;
  a.ids->add_observer(seen.sink());
  auto c = a.ids->allocate_cidr(*IpPrefix::parse("192.0.2.0/24"), "policy");
  EXPECT_TRUE(is_local_scope(c.id));
  EXPECT_TRUE(a.ids->lookup(c.id));
  EXPECT_TRUE(seen.has(IdentityEvent::Type::Added, c.id, *a.ids->lookup(c.id)));
  {
    std::lock_guard<std::mutex> l(seen.mu);
    EXPECT_EQ(std::count_if(seen.ev.begin(), seen.ev.end(), [](const IdentityEvent& e) { return e.id == kHost; }), 1)
        << "reserved identities are announced once";
  }
  EXPECT_TRUE(admin_->get_prefix(kvstore::keys::kIdentityId).kvs.empty());
}

TEST_F(KvstoreAllocatorTest, IdentityGcDeletesOnlyUnreferencedIds) {
  auto a = node("node-a");
  auto keep = a.ids->allocate(L("keep"), "endpoint:1");
  auto drop = a.ids->allocate(L("drop"), "endpoint:2");
  a.ids->release(drop.id, "endpoint:2");
  ASSERT_TRUE(eventually([&] { return !admin_->get(value_key(L("drop"), "node-a")); }));
  op::IdentityGcTracker tracker(0s);
  auto deleted = op::run_identity_gc(*admin_, tracker);
  EXPECT_EQ(deleted, std::vector<NumericIdentity>{drop.id});
  EXPECT_TRUE(admin_->get(id_key(keep.id)));
  EXPECT_FALSE(admin_->get(id_key(drop.id)));
}

}  // namespace
