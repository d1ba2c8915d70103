// CrdAllocator over KubeStore against the API fixture: two nodes (each its
// own client and store) agree on ids and see each other's identities,
// concurrent creations in a crowded range never share an id, a restarted
// agent keeps its ids and re-creates what the GC deleted meanwhile, the
// operator's GC removes released identities, and an identity upstream
// Cilium wrote (the seed's) is reused.
#include <gtest/gtest.h>
#include <stdio.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "crd_test_support.h"
#include "fixture_process.h"
#include "identity/crd_allocator.h"
#include "k8s/client/kube_store.h"
#include "operator/crd_identity_gc.h"
#include "store/resource_meta.h"
#include "store/yaml.h"

using namespace cpp;
using namespace cpp::identity;
using namespace std::chrono_literals;
using crdtest::app;
using crdtest::eventually;
using crdtest::Events;
using crdtest::TempDir;
using k8stest::FixtureProcess;
using nlohmann::json;
using Type = IdentityEvent::Type;

namespace {

k8s::Reflector::Options fast() {
  k8s::Reflector::Options o;
  o.backoff_min = 20ms;
  o.backoff_max = 200ms;
  return o;
}

CrdAllocatorOptions opts(const std::string& node, const std::string& state = "") {
  CrdAllocatorOptions o;
  o.node = node;
  o.state_file = state;
  o.retry_interval = 50ms;
  return o;
}

json endpoint(const std::string& name, NumericIdentity id) {
  return {{"apiVersion", "cilium.io/v2"},
          {"kind", "CiliumEndpoint"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"status", {{"identity", {{"id", id}}}}}};
}

std::string output_of(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  pclose(p);
  return out;
}

class CrdAllocatorKube : public ::testing::Test {
 protected:
  FixtureProcess api;
  k8s::KubeStore store_a{api.client(), fast()};
  k8s::KubeStore store_b{api.client(), fast()};
};

}  // namespace

TEST_F(CrdAllocatorKube, TwoNodesAgreeAndKubectlSeesUpstreamShape) {
  CrdAllocator a(store_a, opts("node-a")), b(store_b, opts("node-b"));
  Events eb;
  b.add_observer(eb.observer());
  auto ida = a.allocate(app("web"), "endpoint:1");
  EXPECT_TRUE(ida.is_new);
  ASSERT_TRUE(eb.wait_for(Type::Added, ida.id));
  EXPECT_EQ(b.lookup(ida.id), app("web"));
  auto idb = b.allocate(app("web"), "endpoint:2");
  EXPECT_EQ(idb.id, ida.id);
  EXPECT_FALSE(idb.is_new);
  EXPECT_EQ(store_a.list("CiliumIdentity").size(), 1u);

  TempDir dir;
  std::ofstream(dir.path() + "/kubeconfig")
      << "apiVersion: v1\nkind: Config\ncurrent-context: f\nclusters:\n- name: f\n  cluster: {server: "
         "'http://127.0.0.1:"
      << api.port() << "'}\ncontexts:\n- name: f\n  context: {cluster: f, user: u}\nusers:\n- name: u\n  user: {}\n";
  auto text = output_of("kubectl --kubeconfig " + dir.path() + "/kubeconfig get ciliumidentities " +
                        std::to_string(ida.id) + " -o json");
  auto obj = json::parse(text, nullptr, false);
  ASSERT_TRUE(obj.is_object()) << text;
  EXPECT_EQ(obj["metadata"]["labels"]["app"], "web");
  EXPECT_EQ(obj["security-labels"]["k8s:app"], "web");
  EXPECT_EQ(obj["security-labels"]["k8s:io.kubernetes.pod.namespace"], "default");
}

TEST_F(CrdAllocatorKube, ConcurrentCreationsInACrowdedRangeNeverShareAnId) {
  auto o_a = opts("node-a"), o_b = opts("node-b");
  for (auto* o : {&o_a, &o_b}) {
    o->cluster_min = 256;
    o->cluster_max = 256 + 44;  // 45 ids for 40 label sets: names collide
  }
  CrdAllocator a(store_a, o_a), b(store_b, o_b);
  constexpr int kEach = 20;
  std::map<std::string, NumericIdentity> got_a, got_b;
  std::thread ta([&] {
    for (int i = 0; i < kEach; ++i) got_a["a" + std::to_string(i)] = a.allocate(app("a" + std::to_string(i)), "u").id;
  });
  std::thread tb([&] {
    for (int i = 0; i < kEach; ++i) got_b["b" + std::to_string(i)] = b.allocate(app("b" + std::to_string(i)), "u").id;
  });
  ta.join();
  tb.join();
  auto objs = store_a.list("CiliumIdentity");
  ASSERT_EQ(objs.size(), 2u * kEach);
  std::map<NumericIdentity, labels::LabelSet> stored;
  for (const auto& obj : objs) stored.insert(parse_cilium_identity(obj));
  for (auto* got : {&got_a, &got_b})
    for (const auto& [name, id] : *got) EXPECT_EQ(stored.at(id), app(name)) << name;
  // Each node learns the other's identities.
  ASSERT_TRUE(eventually([&] { return a.list().size() == 2u * kEach && b.list().size() == 2u * kEach; }));
  for (const auto& [name, id] : got_b) EXPECT_EQ(a.lookup(id), app(name));
}

TEST_F(CrdAllocatorKube, RestartKeepsIdsReleaseAndGc) {
  TempDir dir;
  const std::string state = dir.path() + "/ids.json";
  Events eb;
  CrdAllocator b(store_b, opts("node-b"));
  b.add_observer(eb.observer());
  NumericIdentity web, db;
  {
    CrdAllocator a(store_a, opts("node-a", state));
    web = a.allocate(app("web"), "endpoint:1").id;
    db = a.allocate(app("db"), "endpoint:2").id;
    EXPECT_TRUE(a.release(db, "endpoint:2"));
  }
  ASSERT_TRUE(eb.wait_for(Type::Added, web));
  ASSERT_TRUE(eb.wait_for(Type::Added, db));
  // The operator runs while node-a is down: no endpoint uses either identity.
  store_a.put(endpoint("unrelated", 60000));
  op::CrdIdentityGcState gc(0s);
  size_t alive = 99;
  auto deleted = op::run_crd_identity_gc(store_a, gc, std::chrono::steady_clock::now(), &alive);
  EXPECT_EQ(std::set<NumericIdentity>(deleted.begin(), deleted.end()), (std::set<NumericIdentity>{web, db}));
  EXPECT_EQ(alive, 0u);
  ASSERT_TRUE(eb.wait_for(Type::Removed, db));
  ASSERT_TRUE(eb.wait_for(Type::Removed, web));

  // node-a restarts: web (still held) comes back under its id, db does not.
  CrdAllocator a(store_a, opts("node-a", state));
  EXPECT_EQ(a.lookup(app("web")), web);
  ASSERT_TRUE(eventually([&] { return store_a.get("CiliumIdentity", "", std::to_string(web)).has_value(); }));
  ASSERT_TRUE(eb.wait_for(Type::Added, web));
  EXPECT_FALSE(store_a.get("CiliumIdentity", "", std::to_string(db)));
  auto again = b.allocate(app("web"), "endpoint:5");
  EXPECT_EQ(again.id, web);

  // With an endpoint using it, web survives the GC; once it is gone it does not.
  store_a.put(endpoint("web-1", web));
  EXPECT_TRUE(op::run_crd_identity_gc(store_a, gc, std::chrono::steady_clock::now()).empty());
}

TEST_F(CrdAllocatorKube, IdentityUpstreamWroteIsReused) {
  std::ifstream in(std::string(CILIUMPP_SOURCE_DIR) + "/examples/ciliumidentity-seed.yaml");
  std::stringstream ss;
  ss << in.rdbuf();
  json seed = store::parse_yaml_documents(ss.str()).at(0);
  for (const char* f : {"uid", "resourceVersion", "creationTimestamp", "generation"}) seed["metadata"].erase(f);
  ASSERT_TRUE(store_a.create(seed));
  auto [id, ls] = parse_cilium_identity(seed);
  CrdAllocator a(store_a, opts("node-a"));
  auto got = a.allocate(ls, "endpoint:coredns");
  EXPECT_EQ(got.id, 52314u);
  EXPECT_FALSE(got.is_new);
  EXPECT_EQ(store_a.list("CiliumIdentity").size(), 1u);
}

TEST_F(CrdAllocatorKube, ApiDownAtStartKeepsHeldIdsAndSyncsWhenBack) {
  TempDir dir;
  const std::string state = dir.path() + "/ids.json";
  NumericIdentity web;
  {
    CrdAllocator a(store_a, opts("node-a", state));
    web = a.allocate(app("web"), "endpoint:1").id;
  }
  api.control("down");
  // A restarted agent: a new client, no connection kept from before.
  k8s::KubeStore restarted{api.client(), fast()};
  auto o = opts("node-a", state);
  o.sync_timeout = 300ms;
  CrdAllocator a(restarted, o);
  EXPECT_FALSE(a.synced());
  EXPECT_EQ(a.lookup(app("web")), web);  // from the state file, without the API
  EXPECT_EQ(a.allocate(app("web"), "endpoint:2").id, web);
  // New labels need the cluster's identities first: a clear error, no duplicate.
  EXPECT_THROW(a.allocate(app("db"), "endpoint:3"), std::runtime_error);
  api.control("up");
  ASSERT_TRUE(a.wait_synced(30s));
  ASSERT_TRUE(eventually([&] {
    try {
      restarted.list("Namespace");
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }));
  auto db = a.allocate(app("db"), "endpoint:3");
  EXPECT_TRUE(db.is_new);
  EXPECT_EQ(store_a.list("CiliumIdentity").size(), 2u);
  EXPECT_EQ(a.get(web)->users, (std::vector<std::string>{"endpoint:1", "endpoint:2"}));
}
