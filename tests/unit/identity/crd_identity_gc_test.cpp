// The operator's CiliumIdentity GC over a DirectoryStore: heartbeats from
// CiliumEndpoints and from object changes, deletion after the grace period,
// and an agent that still holds a deleted identity creating it again.
#include <gtest/gtest.h>

#include "crd_test_support.h"
#include "identity/crd_allocator.h"
#include "operator/crd_identity_gc.h"
#include "store/store.h"

using namespace cpp;
using namespace std::chrono_literals;
using crdtest::app;
using crdtest::eventually;
using crdtest::TempDir;
using nlohmann::json;

namespace {

json endpoint(const std::string& name, identity::NumericIdentity id) {
  return {{"apiVersion", "cilium.io/v2"},
          {"kind", "CiliumEndpoint"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"status", {{"identity", {{"id", id}}}}}};
}

bool exists(store::ResourceStore& s, identity::NumericIdentity id) {
  return s.get("CiliumIdentity", "", std::to_string(id)).has_value();
}

}  // namespace

TEST(CrdIdentityGc, UnusedIdentitiesGoAfterTheGracePeriod) {
  TempDir dir;
  store::DirectoryStore s(dir.path());
  s.put(identity::cilium_identity_object(300, app("used")));
  s.put(identity::cilium_identity_object(301, app("unused")));
  s.put(endpoint("web-1", 300));
  op::CrdIdentityGcState st(10s);
  auto t0 = std::chrono::steady_clock::now();
  size_t alive = 0;
  EXPECT_TRUE(op::run_crd_identity_gc(s, st, t0, &alive).empty());
  EXPECT_EQ(alive, 2u);
  EXPECT_TRUE(op::run_crd_identity_gc(s, st, t0 + 9s).empty());
  EXPECT_EQ(op::run_crd_identity_gc(s, st, t0 + 10s, &alive), std::vector<identity::NumericIdentity>{301});
  EXPECT_EQ(alive, 1u);
  EXPECT_FALSE(exists(s, 301));
  // The endpoint's heartbeat keeps 300 for as long as it exists...
  EXPECT_TRUE(op::run_crd_identity_gc(s, st, t0 + 100s).empty());
  op::CrdIdentityGcState no_grace(0s);
  EXPECT_TRUE(op::run_crd_identity_gc(s, no_grace, t0 + 100s).empty());  // in use: never a candidate
  s.remove("CiliumEndpoint", "default", "web-1");
  // ...and the grace period runs from its last heartbeat.
  EXPECT_TRUE(op::run_crd_identity_gc(s, st, t0 + 109s).empty());
  EXPECT_EQ(op::run_crd_identity_gc(s, st, t0 + 110s), std::vector<identity::NumericIdentity>{300});
  EXPECT_TRUE(s.list("CiliumIdentity").empty());
  EXPECT_TRUE(st.heartbeats.empty());
}

TEST(CrdIdentityGc, AChangedObjectRestartsTheClock) {
  TempDir dir;
  store::DirectoryStore s(dir.path());
  s.put(identity::cilium_identity_object(400, app("a")));
  op::CrdIdentityGcState st(10s);
  auto t0 = std::chrono::steady_clock::now();
  op::run_crd_identity_gc(s, st, t0);
  // Deleted and created again (an agent that still held it): a new version.
  s.remove("CiliumIdentity", "", "400");
  s.put(identity::cilium_identity_object(400, app("a")));
  EXPECT_TRUE(op::run_crd_identity_gc(s, st, t0 + 11s).empty());
  EXPECT_EQ(op::run_crd_identity_gc(s, st, t0 + 21s).size(), 1u);
}

TEST(CrdIdentityGc, NonNumericNamesAreLeftAlone) {
  TempDir dir;
  store::DirectoryStore s(dir.path());
  json odd = identity::cilium_identity_object(500, app("a"));
  odd["metadata"]["name"] = "not-a-number";
  s.put(odd);
  op::CrdIdentityGcState st(0s);
  EXPECT_TRUE(op::run_crd_identity_gc(s, st, std::chrono::steady_clock::now()).empty());
  EXPECT_TRUE(s.get("CiliumIdentity", "", "not-a-number"));
}

TEST(CrdIdentityGc, ReleasedIdentityIsCollectedAndAHeldOneComesBack) {
  TempDir dir;
  store::DirectoryStore s(dir.path(), 20ms);
  identity::CrdAllocatorOptions o;
  o.node = "node-a";
  o.retry_interval = 50ms;
  o.resync_interval = 100ms;
  identity::CrdAllocator a(s, o);
  auto gone = a.allocate(app("gone"), "endpoint:1").id;
  auto held = a.allocate(app("held"), "endpoint:2").id;
  a.release(gone, "endpoint:1");
  s.put(endpoint("other-node-pod", 60000));  // an identity this store does not have
  op::CrdIdentityGcState st(0s);
  auto deleted = op::run_crd_identity_gc(s, st, std::chrono::steady_clock::now());
  EXPECT_EQ(deleted.size(), 2u);  // neither has an endpoint object
  EXPECT_FALSE(exists(s, gone));
  // The node still holds `held`: it writes it again under the same id.
  ASSERT_TRUE(eventually([&] { return exists(s, held); }));
  EXPECT_FALSE(exists(s, gone));
  EXPECT_EQ(a.lookup(app("held")), held);
}
