#include "object_store.h"

#include <gtest/gtest.h>

#include "api_error.h"

using namespace cpp::kfix;

namespace {

const ServedKind& K(const char* kind) { return *served_by_kind(kind); }

json cnp(const std::string& name, const std::string& app = "web") {
  return {{"apiVersion", "cilium.io/v2"},
          {"kind", "CiliumNetworkPolicy"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"spec", {{"endpointSelector", {{"matchLabels", {{"app", app}}}}}}}};
}

int code_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ApiError& e) {
    return e.code();
  }
  return 0;
}

uint64_t rv(const json& o) { return std::stoull(o["metadata"]["resourceVersion"].get<std::string>()); }

}  // namespace

TEST(ObjectStore, StartsWithTheStandardNamespaces) {
  ObjectStore s({});
  auto page = s.list(K("Namespace"), {});
  ASSERT_EQ(page.items.size(), 4u);
  EXPECT_EQ(page.items[0]["metadata"]["name"], "default");
  EXPECT_EQ(page.items[0]["status"]["phase"], "Active");
}

TEST(ObjectStore, CreateUpdateConflictDelete) {
  ObjectStore s({});
  json a = s.create(K("CiliumNetworkPolicy"), "default", cnp("a"));
  EXPECT_EQ(a["metadata"]["generation"], 1);
  EXPECT_EQ(code_of([&] { s.create(K("CiliumNetworkPolicy"), "default", cnp("a")); }), 409);
  EXPECT_EQ(code_of([&] { s.create(K("CiliumNetworkPolicy"), "nowhere", cnp("a")); }), 400);  // namespace mismatch
  json b = a;
  b["spec"]["endpointSelector"]["matchLabels"]["app"] = "db";
  json b2 = s.update(K("CiliumNetworkPolicy"), "default", "a", b, false);
  EXPECT_EQ(b2["metadata"]["generation"], 2);
  EXPECT_EQ(b2["metadata"]["uid"], a["metadata"]["uid"]);
  EXPECT_GT(rv(b2), rv(a));
  EXPECT_EQ(code_of([&] { s.update(K("CiliumNetworkPolicy"), "default", "a", b, false); }), 409);  // stale
  // A write that changes nothing keeps the resourceVersion.
  EXPECT_EQ(rv(s.update(K("CiliumNetworkPolicy"), "default", "a", b2, false)), rv(b2));
  json d = s.remove(K("CiliumNetworkPolicy"), "default", "a", json());
  EXPECT_GT(rv(d), rv(b2));
  EXPECT_EQ(code_of([&] { s.get(K("CiliumNetworkPolicy"), "default", "a"); }), 404);
  EXPECT_EQ(code_of([&] { s.remove(K("CiliumNetworkPolicy"), "default", "a", json()); }), 404);
}

TEST(ObjectStore, ValidationIs422WithTheField) {
  ObjectStore s({});
  json bad = cnp("a");
  bad.erase("spec");
  try {
    s.create(K("CiliumNetworkPolicy"), "default", bad);
    FAIL();
  } catch (const ApiError& e) {
    EXPECT_EQ(e.code(), 422);
    EXPECT_EQ(e.status()["details"]["causes"][0]["field"], "spec");
  }
}

TEST(ObjectStore, StatusSubresource) {
  ObjectStore s({});
  json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", "p"}}},
              {"spec", {{"nodeName", "n1"}}},
              {"status", {{"phase", "Running"}}}};
  json created = s.create(K("Pod"), "default", pod);
  EXPECT_EQ(created["status"]["phase"], "Pending");
  json st = created;
  st["status"] = {{"phase", "Running"}};
  st["spec"]["nodeName"] = "n2";
  json after = s.update(K("Pod"), "default", "p", st, true);
  EXPECT_EQ(after["status"]["phase"], "Running");
  EXPECT_EQ(after["spec"]["nodeName"], "n1");
  EXPECT_EQ(after["metadata"]["generation"], 1);
  json main = after;
  main["status"] = {{"phase", "Failed"}};
  main["spec"]["nodeName"] = "n3";
  json after2 = s.update(K("Pod"), "default", "p", main, false);
  EXPECT_EQ(after2["status"]["phase"], "Running");
  EXPECT_EQ(after2["spec"]["nodeName"], "n3");
  EXPECT_EQ(after2["metadata"]["generation"], 2);
}

TEST(ObjectStore, ContinueIsASnapshotAndExpiresWithCompaction) {
  ObjectStore s({});
  for (auto n : {"a", "b", "c"}) s.create(K("CiliumNetworkPolicy"), "default", cnp(n));
  ListQuery q;
  q.limit = 1;
  auto p1 = s.list(K("CiliumNetworkPolicy"), q);
  ASSERT_EQ(p1.items.size(), 1u);
  EXPECT_EQ(p1.remaining, 2);
  s.remove(K("CiliumNetworkPolicy"), "default", "b", json());
  s.create(K("CiliumNetworkPolicy"), "default", cnp("bb"));
  q.limit = 10;
  q.continue_token = p1.continue_token;
  auto p2 = s.list(K("CiliumNetworkPolicy"), q);
  ASSERT_EQ(p2.items.size(), 2u);
  EXPECT_EQ(p2.items[0]["metadata"]["name"], "b");
  EXPECT_EQ(p2.items[1]["metadata"]["name"], "c");
  EXPECT_EQ(p2.rv, p1.rv);
  s.compact();
  EXPECT_EQ(code_of([&] { s.list(K("CiliumNetworkPolicy"), q); }), 410);
}

TEST(ObjectStore, EventsAfterAVersionAndHistoryLimit) {
  ObjectStore s({.history = 8});
  uint64_t start = s.resource_version();
  s.create(K("CiliumNetworkPolicy"), "default", cnp("a"));
  s.create(K("Pod"), "default", {{"metadata", {{"name", "p"}}}});
  s.remove(K("CiliumNetworkPolicy"), "default", "a", json());
  std::vector<Event> evs;
  uint64_t scanned = 0;
  ASSERT_TRUE(s.wait_events(K("CiliumNetworkPolicy"), start, std::chrono::steady_clock::now(), evs, &scanned));
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_EQ(evs[0].type, "ADDED");
  EXPECT_EQ(evs[1].type, "DELETED");
  EXPECT_EQ(scanned, s.resource_version());
  for (int i = 0; i < 10; ++i) s.create(K("CiliumNetworkPolicy"), "default", cnp("x" + std::to_string(i)));
  evs.clear();
  EXPECT_FALSE(s.wait_events(K("CiliumNetworkPolicy"), start, std::chrono::steady_clock::now(), evs, &scanned));
}

TEST(ObjectStore, ServicesGetClusterIPsAndNodePorts) {
  ObjectStore s({.history = 100, .service_cidr = "10.96.0.0/30"});
  auto svc = [](const char* name, const char* type) {
    return json{{"apiVersion", "v1"},
                {"kind", "Service"},
                {"metadata", {{"name", name}}},
                {"spec", {{"type", type}, {"ports", {{{"port", 80}}}}}}};
  };
  json a = s.create(K("Service"), "default", svc("a", "NodePort"));
  EXPECT_EQ(a["spec"]["clusterIP"], "10.96.0.1");
  EXPECT_EQ(a["spec"]["ports"][0]["nodePort"], 30000);
  EXPECT_EQ(a["spec"]["ports"][0]["targetPort"], 80);
  json b = s.create(K("Service"), "default", svc("b", "ClusterIP"));
  EXPECT_EQ(b["spec"]["clusterIP"], "10.96.0.2");
  EXPECT_FALSE(b["spec"]["ports"][0].contains("nodePort"));
  EXPECT_EQ(code_of([&] { s.create(K("Service"), "default", svc("c", "ClusterIP")); }), 500);  // the /30 is full
  // An update without the allocated values keeps them.
  json upd = svc("a", "NodePort");
  json kept = s.update(K("Service"), "default", "a", upd, false);
  EXPECT_EQ(kept["spec"]["clusterIP"], "10.96.0.1");
  EXPECT_EQ(kept["spec"]["ports"][0]["nodePort"], 30000);
}

TEST(ObjectStore, NamespacesMustExistAndDeleteCascades) {
  ObjectStore s({});
  EXPECT_EQ(code_of([&] { s.create(K("Pod"), "team", {{"metadata", {{"name", "p"}}}}); }), 404);
  s.create(K("Namespace"), "", {{"metadata", {{"name", "team"}}}});
  s.create(K("Pod"), "team", {{"metadata", {{"name", "p"}}}});
  s.remove(K("Namespace"), "", "team", json());
  EXPECT_EQ(code_of([&] { s.get(K("Pod"), "team", "p"); }), 404);
}

TEST(ObjectStore, OwnedObjectsGoWithTheirOwnerUnlessOrphaned) {
  ObjectStore s({});
  auto cep = [](const std::string& name, const json& owner_uid) {
    json o = json::parse(R"({"apiVersion": "cilium.io/v2", "kind": "CiliumEndpoint",
                             "metadata": {"ownerReferences": [{"apiVersion": "v1", "kind": "Pod", "name": "p"}]}})");
    o["metadata"]["name"] = name;
    o["metadata"]["ownerReferences"][0]["uid"] = owner_uid;
    return o;
  };
  json pod = s.create(K("Pod"), "default", {{"metadata", {{"name", "p"}}}});
  s.create(K("CiliumEndpoint"), "default", cep("p", pod["metadata"]["uid"]));
  s.create(K("CiliumEndpoint"), "default", cep("unowned", "some-other-uid"));
  s.remove(K("Pod"), "default", "p", json());
  EXPECT_EQ(code_of([&] { s.get(K("CiliumEndpoint"), "default", "p"); }), 404);
  EXPECT_EQ(code_of([&] { s.get(K("CiliumEndpoint"), "default", "unowned"); }), 0);

  pod = s.create(K("Pod"), "default", {{"metadata", {{"name", "p"}}}});
  s.create(K("CiliumEndpoint"), "default", cep("p", pod["metadata"]["uid"]));
  s.remove(K("Pod"), "default", "p", json(), true);
  EXPECT_EQ(code_of([&] { s.get(K("CiliumEndpoint"), "default", "p"); }), 0);
}
