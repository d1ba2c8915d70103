// CrdAllocator over DirectoryStores sharing one directory (two "nodes"):
// the CiliumIdentity objects it writes, agreement between nodes, restarts
// with the state file, re-creation of held identities, name collisions.
#include <gtest/gtest.h>

#include "crd_test_support.h"
#include "identity/crd_allocator.h"
#include "store/store.h"

using namespace cpp::identity;
using namespace std::chrono_literals;
using crdtest::app;
using crdtest::eventually;
using crdtest::Events;
using crdtest::TempDir;
using cpp::store::DirectoryStore;
using nlohmann::json;
using Type = IdentityEvent::Type;

namespace {

CrdAllocatorOptions opts(const std::string& node, const std::string& state = "") {
  CrdAllocatorOptions o;
  o.node = node;
  o.state_file = state;
  o.retry_interval = 50ms;
  o.resync_interval = 100ms;
  return o;
}

// A DirectoryStore where another node creates the CiliumIdentity a create()
// asks for just before it (with `their` labels): the lost race, made certain.
class RacingStore : public DirectoryStore {
 public:
  RacingStore(const std::string& dir, cpp::labels::LabelSet their) : DirectoryStore(dir, 20ms), their_(their) {}
  bool create(json obj) override {
    if (obj.value("kind", "") == "CiliumIdentity" && races_left_ > 0) {
      --races_left_;
      NumericIdentity id = std::stoul(obj["metadata"]["name"].get<std::string>());
      DirectoryStore other(dir());
      EXPECT_TRUE(other.create(cilium_identity_object(id, their_)));
      lost_.push_back(id);
    }
    return DirectoryStore::create(std::move(obj));
  }
  std::vector<NumericIdentity> lost_;
  int races_left_ = 1;

 private:
  cpp::labels::LabelSet their_;
};

}  // namespace

TEST(CrdAllocator, WritesUpstreamShapedCiliumIdentityAndCountsUsers) {
  TempDir dir;
  DirectoryStore store(dir.path(), 20ms);
  CrdAllocator a(store, opts("node-a"));
  auto ls = app("web");
  auto first = a.allocate(ls, "endpoint:1");
  EXPECT_TRUE(first.is_new);
  EXPECT_TRUE(is_cluster(first.id));
  auto obj = store.get("CiliumIdentity", "", std::to_string(first.id));
  ASSERT_TRUE(obj);
  EXPECT_EQ((*obj)["apiVersion"], "cilium.io/v2");
  EXPECT_EQ((*obj)["metadata"]["labels"]["app"], "web");
  EXPECT_EQ((*obj)["metadata"]["labels"]["io.kubernetes.pod.namespace"], "default");
  EXPECT_EQ((*obj)["security-labels"]["k8s:app"], "web");
  EXPECT_EQ(parse_cilium_identity(*obj).second, ls);

  auto second = a.allocate(ls, "endpoint:2");
  EXPECT_EQ(second.id, first.id);
  EXPECT_FALSE(second.is_new);
  EXPECT_EQ(a.lookup(ls), first.id);
  EXPECT_EQ(a.lookup(first.id), ls);
  EXPECT_EQ(a.get(first.id)->users, (std::vector<std::string>{"endpoint:1", "endpoint:2"}));
  EXPECT_FALSE(a.release(first.id, "endpoint:1"));
  EXPECT_TRUE(a.release(first.id, "endpoint:2"));
  // Release writes nothing: the operator's GC removes unused identities.
  EXPECT_TRUE(store.get("CiliumIdentity", "", std::to_string(first.id)));
  EXPECT_EQ(a.lookup(ls), first.id);  // still a cluster identity
  EXPECT_TRUE(a.get(first.id)->users.empty());
}

TEST(CrdAllocator, ReservedCidrAndBadInput) {
  TempDir dir;
  DirectoryStore store(dir.path(), 20ms);
  CrdAllocator a(store, opts("node-a"));
  EXPECT_EQ(a.allocate(cpp::labels::LabelSet::parse_list("reserved:host;"), "u").id, kHost);
  EXPECT_THROW(a.allocate({}, "u"), std::invalid_argument);
  auto c = a.allocate_cidr(*cpp::IpPrefix::parse("10.0.0.0/8"), "policy");
  EXPECT_TRUE(is_local_scope(c.id));
  EXPECT_TRUE(store.list("CiliumIdentity").empty());  // CIDR identities never leave the node
  EXPECT_THROW(a.allocate(*a.lookup(c.id), "u"), std::invalid_argument);
  CrdAllocatorOptions bad = opts("node-a");
  bad.cluster_min = 10;
  EXPECT_THROW(CrdAllocator(store, bad), std::invalid_argument);
}

TEST(CrdAllocator, TwoNodesAgreeAndSeeEachOthersIdentities) {
  TempDir dir;
  DirectoryStore sa(dir.path(), 20ms), sb(dir.path(), 20ms);
  CrdAllocator a(sa, opts("node-a")), b(sb, opts("node-b"));
  Events eb;
  b.add_observer(eb.observer());
  EXPECT_TRUE(eb.has(Type::Added, kWorld));  // reserved ones are replayed
  auto ida = a.allocate(app("db"), "endpoint:7");
  ASSERT_TRUE(eb.wait_for(Type::Added, ida.id));
  EXPECT_EQ(b.lookup(ida.id), app("db"));
  auto idb = b.allocate(app("db"), "endpoint:9");
  EXPECT_EQ(idb.id, ida.id);
  EXPECT_FALSE(idb.is_new);
  EXPECT_EQ(sa.list("CiliumIdentity").size(), 1u);
  // An identity deleted cluster-wide that b does not hold goes away on b.
  auto other = a.allocate(app("cache"), "endpoint:8");
  ASSERT_TRUE(eb.wait_for(Type::Added, other.id));
  EXPECT_TRUE(a.release(other.id, "endpoint:8"));  // else a would create it again
  sa.remove("CiliumIdentity", "", std::to_string(other.id));
  ASSERT_TRUE(eb.wait_for(Type::Removed, other.id));
  EXPECT_FALSE(b.lookup(other.id));
}

TEST(CrdAllocator, HeldIdentityDeletedFromTheStoreIsCreatedAgain) {
  TempDir dir;
  DirectoryStore store(dir.path(), 20ms);
  CrdAllocator a(store, opts("node-a"));
  auto id = a.allocate(app("web"), "endpoint:1").id;
  store.remove("CiliumIdentity", "", std::to_string(id));
  ASSERT_TRUE(eventually([&] { return store.get("CiliumIdentity", "", std::to_string(id)).has_value(); }));
  EXPECT_EQ(parse_cilium_identity(*store.get("CiliumIdentity", "", std::to_string(id))).second, app("web"));
  EXPECT_EQ(a.lookup(id), app("web"));
}

TEST(CrdAllocator, RestartKeepsIdsAndRecreatesMissingObjects) {
  TempDir dir;
  const std::string state = dir.path() + "/ids.json";
  DirectoryStore store(dir.path() + "/store", 20ms);
  NumericIdentity web, db;
  {
    CrdAllocator a(store, opts("node-a", state));
    web = a.allocate(app("web"), "endpoint:1").id;
    db = a.allocate(app("db"), "endpoint:2").id;
    a.release(db, "endpoint:2");
  }
  // The operator deleted web while the agent was down.
  store.remove("CiliumIdentity", "", std::to_string(web));
  CrdAllocator a(store, opts("node-a", state));
  EXPECT_EQ(a.lookup(app("web")), web);  // at once, from the state file
  EXPECT_EQ(a.get(web)->users, std::vector<std::string>{"endpoint:1"});
  auto again = a.allocate(app("web"), "endpoint:1");
  EXPECT_EQ(again.id, web);
  EXPECT_FALSE(again.is_new);
  ASSERT_TRUE(eventually([&] { return store.get("CiliumIdentity", "", std::to_string(web)).has_value(); }));
  ASSERT_TRUE(a.wait_synced(30s));
  EXPECT_EQ(a.lookup(app("db")), db);  // released, but still in the store
}

TEST(CrdAllocator, LostNameRaceRetriesAtAnotherId) {
  TempDir dir;
  RacingStore store(dir.path(), app("theirs"));
  auto o = opts("node-a");
  o.cluster_min = 256;
  o.cluster_max = 257;
  CrdAllocator a(store, o);
  Events ev;
  a.add_observer(ev.observer());
  auto got = a.allocate(app("mine"), "endpoint:1");
  ASSERT_EQ(store.lost_.size(), 1u);
  EXPECT_NE(got.id, store.lost_[0]);
  EXPECT_TRUE(got.is_new);
  EXPECT_EQ(a.lookup(store.lost_[0]), app("theirs"));  // learnt from the collision
  EXPECT_TRUE(ev.has(Type::Added, store.lost_[0]));
  EXPECT_EQ(parse_cilium_identity(*store.get("CiliumIdentity", "", std::to_string(got.id))).second, app("mine"));
  // The range is now full.
  EXPECT_THROW(a.allocate(app("third"), "endpoint:2"), std::runtime_error);
}

TEST(CrdAllocator, SameLabelsCreatedElsewhereAtTheSameNameAreReused) {
  TempDir dir;
  RacingStore store(dir.path(), app("web"));
  CrdAllocator a(store, opts("node-a"));
  auto got = a.allocate(app("web"), "endpoint:1");
  ASSERT_EQ(store.lost_.size(), 1u);
  EXPECT_EQ(got.id, store.lost_[0]);
  EXPECT_FALSE(got.is_new);
  EXPECT_EQ(store.list("CiliumIdentity").size(), 1u);
}
