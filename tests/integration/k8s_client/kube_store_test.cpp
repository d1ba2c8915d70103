// KubeStore against the API fixture server: the ResourceStore contract the
// directory and etcd stores follow, plus what only the Kubernetes API has
// (watches that break, 410 and relists, faults, TLS, tokens, kubectl).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "fixture_process.h"
#include "k8s/client/kube_store.h"
#include "store_test_support.h"

using namespace cpp::k8s;
using namespace std::chrono_literals;
using cpp::store::EventType;
using k8stest::FixtureProcess;
using nlohmann::json;
using storetest::name_of;
using storetest::pod;
using storetest::Recorder;

namespace {

Reflector::Options fast() {
  Reflector::Options o;
  o.backoff_min = 20ms;
  o.backoff_max = 200ms;
  return o;
}

class KubeStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // As on a real API server, objects live in namespaces that exist.
    for (const char* ns : {"other", "team-a", "team-b", "team-a2"})
      store.put({{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}});
  }
  FixtureProcess api;
  KubeStore store{api.client(), fast()};
};

// The names and types of the recorded events from index `from` on.
std::vector<std::string> events_from(Recorder& rec, size_t from) {
  std::vector<std::string> out;
  for (size_t i = from; i < rec.size(); ++i) {
    auto [t, o] = rec.at(i);
    out.push_back(std::string(cpp::store::to_string(t)) + " " + name_of(o));
  }
  return out;
}

int run(const std::string& cmd) { return std::system(cmd.c_str()); }

}  // namespace

TEST_F(KubeStoreTest, PutGetListRemove) {
  auto r = store.put(pod("a"));
  EXPECT_EQ(r.outcome, cpp::store::PutOutcome::Created);
  EXPECT_FALSE(r.object["metadata"]["uid"].get<std::string>().empty());
  EXPECT_FALSE(r.object["metadata"]["resourceVersion"].get<std::string>().empty());
  EXPECT_EQ(store.put(pod("a")).outcome, cpp::store::PutOutcome::Unchanged);
  json changed = pod("a");
  changed["metadata"]["labels"]["tier"] = "front";
  auto u = store.put(changed);
  EXPECT_EQ(u.outcome, cpp::store::PutOutcome::Updated);
  EXPECT_EQ(u.object["metadata"]["uid"], r.object["metadata"]["uid"]);
  store.put(pod("b", "other"));
  store.put(storetest::node("node1"));
  EXPECT_EQ(store.list("Pod").size(), 2u);
  EXPECT_EQ(store.list("Pod", "other").size(), 1u);
  EXPECT_EQ((*store.get("Pod", "default", "a"))["metadata"]["labels"]["tier"], "front");
  EXPECT_EQ((*store.get("Pod", "default", "a"))["kind"], "Pod");
  EXPECT_TRUE(store.get("Node", "", "node1"));
  EXPECT_TRUE(store.remove("Pod", "default", "a"));
  EXPECT_FALSE(store.remove("Pod", "default", "a"));
  EXPECT_FALSE(store.get("Pod", "default", "a"));
}

TEST_F(KubeStoreTest, PutValidates) { storetest::check_put_validates(store); }

TEST_F(KubeStoreTest, UpdateContract) { storetest::check_update_contract(store); }

TEST_F(KubeStoreTest, ConcurrentUpdatesLoseNothing) {
  storetest::check_concurrent_updates_lose_nothing(store, [&] { return std::make_unique<KubeStore>(api.client()); });
}

TEST_F(KubeStoreTest, CreateContract) {
  storetest::check_create_contract(store, [&] { return std::make_unique<KubeStore>(api.client()); });
}

TEST_F(KubeStoreTest, RemoveVersionContract) { storetest::check_remove_version_contract(store); }

TEST_F(KubeStoreTest, StatusOfACustomResourceGoesThroughItsSubresource) {
  json pool = {{"apiVersion", "cilium.io/v2alpha1"},
               {"kind", "CiliumLoadBalancerIPPool"},
               {"metadata", {{"name", "p"}}},
               {"spec", {{"blocks", {{{"cidr", "203.0.113.0/24"}}}}}}};
  store.put(pool);
  auto r = store.update("CiliumLoadBalancerIPPool", "", "p", [](json& o) {
    o["status"]["conditions"] = {{{"type", "cilium.io/PoolConflict"}, {"status", "False"}}};
    return true;
  });
  ASSERT_TRUE(r);
  auto got = store.get("CiliumLoadBalancerIPPool", "", "p");
  ASSERT_TRUE(got);
  EXPECT_EQ((*got)["status"]["conditions"][0]["type"], "cilium.io/PoolConflict");
  EXPECT_EQ((*got)["metadata"]["generation"], 1);  // status is not spec
}

TEST_F(KubeStoreTest, MergePatchOfTheObjectAndOfItsStatus) {
  store.put(storetest::node("patched"));
  auto p = store.merge_patch("Node", "", "patched", {{"metadata", {{"labels", {{"zone", "a"}}}}}});
  ASSERT_TRUE(p);
  EXPECT_EQ((*p)["metadata"]["labels"]["zone"], "a");
  auto rv = (*p)["metadata"]["resourceVersion"];
  auto st = store.merge_patch("Node", "", "patched", {{"status", {{"phase", "Running"}}}}, /*status=*/true);
  ASSERT_TRUE(st);
  EXPECT_EQ((*st)["status"]["phase"], "Running");
  EXPECT_NE((*st)["metadata"]["resourceVersion"], rv);
  auto removed = store.merge_patch("Node", "", "patched", {{"metadata", {{"labels", {{"zone", nullptr}}}}}});
  ASSERT_TRUE(removed);
  EXPECT_FALSE((*removed)["metadata"].value("labels", json::object()).contains("zone"));  // null deletes (RFC 7386)
  EXPECT_FALSE(store.merge_patch("Node", "", "absent", {{"metadata", {{"labels", {{"a", "b"}}}}}}));
  EXPECT_THROW(store.merge_patch("Node", "", "patched", {{"metadata", {{"labels", {{"a", 7}}}}}}),
               std::invalid_argument);  // the server refuses a non-string label
}

TEST_F(KubeStoreTest, WatchReplaysThenFollows) {
  store.put(pod("before"));
  Recorder rec;
  auto w = store.watch("Pod", rec.callback());
  ASSERT_EQ(rec.size(), 1u);  // replayed synchronously
  store.put(pod("after"));
  store.remove("Pod", "default", "before");
  ASSERT_TRUE(rec.wait_for(3));
  EXPECT_EQ(events_from(rec, 0), (std::vector<std::string>{"Added before", "Added after", "Deleted before"}));
}

TEST_F(KubeStoreTest, WatchWithoutReplayAndNamespaceFilter) {
  storetest::check_watch_without_replay_and_namespace_filter(store, 1500ms);
}

TEST_F(KubeStoreTest, WatchStoppedFromItsOwnCallback) { storetest::check_watch_stopped_from_its_own_callback(store, 1500ms); }

TEST_F(KubeStoreTest, BrokenWatchResumesWithoutLosingAnUpdate) {
  Recorder rec;
  auto w = store.watch("Pod", rec.callback());
  store.put(pod("a"));
  ASSERT_TRUE(rec.wait_for(1));
  for (int i = 0; i < 5; ++i) {
    api.control("break-watches");
    json p = pod("a");
    p["metadata"]["labels"]["round"] = std::to_string(i);
    store.put(p);
    store.put(pod("n" + std::to_string(i)));
  }
  ASSERT_TRUE(rec.wait_for(11));
  std::this_thread::sleep_for(1500ms);  // nothing more, nothing twice
  std::vector<std::string> want = {"Added a"};
  for (int i = 0; i < 5; ++i) {
    want.push_back("Modified a");
    want.push_back("Added n" + std::to_string(i));
  }
  EXPECT_EQ(events_from(rec, 0), want);
  EXPECT_EQ(rec.at(9).second["metadata"]["labels"]["round"], "4");
}

TEST_F(KubeStoreTest, GoneWatchRelistsAndReportsWhatChangedMeanwhile) {
  Recorder rec;
  auto w = store.watch("Pod", rec.callback());
  store.put(pod("a"));
  store.put(pod("b"));
  ASSERT_TRUE(rec.wait_for(2));
  // Cluster-wide list and watch of pods fail while the objects change, then the
  // history they would resume from is compacted away: only a relist can tell.
  api.control("fail", "count=100000&code=503&match=/api/v1/pods");
  api.control("break-watches");
  json a = pod("a");
  a["metadata"]["labels"]["v"] = "2";
  store.put(a);
  store.remove("Pod", "default", "b");
  store.put(pod("c"));
  api.control("compact");
  api.control("fail", "count=0");
  ASSERT_TRUE(rec.wait_for(5));
  auto after = events_from(rec, 2);
  std::sort(after.begin(), after.end());
  EXPECT_EQ(after, (std::vector<std::string>{"Added c", "Deleted b", "Modified a"}));
  // And the watch goes on from the relist.
  store.put(pod("d"));
  ASSERT_TRUE(rec.wait_for(6));
  EXPECT_EQ(events_from(rec, 5), std::vector<std::string>{"Added d"});
}

TEST_F(KubeStoreTest, GarbageAndErrorsBackOffAndNeverDeleteTheCache) {
  Recorder rec;
  store.put(pod("a"));
  auto w = store.watch("Pod", rec.callback());
  ASSERT_EQ(rec.size(), 1u);
  api.control("fail", "count=3&mode=garbage&match=/api/v1/pods");
  api.control("break-watches");
  store.put(pod("b"));
  ASSERT_TRUE(rec.wait_for(2));
  api.control("fail", "count=3&code=500&match=/api/v1/pods");
  api.control("break-watches");
  store.put(pod("c"));
  ASSERT_TRUE(rec.wait_for(3));
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(events_from(rec, 0), (std::vector<std::string>{"Added a", "Added b", "Added c"}));  // no delete
  EXPECT_THROW(
      {
        api.control("fail", "count=2&mode=garbage&match=/namespaces/default/pods/x");
        store.get("Pod", "default", "x");
      },
      ApiUnavailable);
}

TEST_F(KubeStoreTest, ApiDownAtWatchTimeReplaysLate) {
  store.put(storetest::node("n1"));
  api.control("fail", "count=100000&code=503&match=/api/v1/nodes");
  Recorder rec;
  auto w = store.watch("Node", rec.callback());
  EXPECT_EQ(rec.size(), 0u);  // the list failed: nothing yet, and watch() did not block
  api.control("fail", "count=0");
  ASSERT_TRUE(rec.wait_for(1));
  EXPECT_EQ(events_from(rec, 0), std::vector<std::string>{"Added n1"});
}

TEST(KubeClientTls, CaTokenAndRefusals) {
  std::string dir = (std::filesystem::temp_directory_path() / "cpp-ktls-XXXXXX").string();
  dir = mkdtemp(dir.data());
  ASSERT_EQ(run("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=kube-apiserver -addext "
                "subjectAltName=IP:127.0.0.1 -keyout " + dir + "/key.pem -out " + dir + "/cert.pem 2>/dev/null"),
            0);
  FixtureProcess api({"--tls-cert", dir + "/cert.pem", "--tls-key", dir + "/key.pem", "--token", "s3cret"});
  std::ifstream ca_in(dir + "/cert.pem");
  std::string ca((std::istreambuf_iterator<char>(ca_in)), {});
  auto make = [&](const std::string& token, const std::string& ca_pem) {
    KubeClient::Options o;
    o.config = api.config(true);
    o.config.token = token;
    o.config.ca_pem = ca_pem;
    o.qps = 0;
    return std::make_shared<KubeClient>(o);
  };
  KubeStore good(make("s3cret", ca));
  good.put(pod("tls"));
  EXPECT_TRUE(good.get("Pod", "default", "tls"));
  try {
    KubeStore(make("wrong", ca)).get("Pod", "default", "tls");
    ADD_FAILURE() << "a wrong token was accepted";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.code(), 401);
  }
  EXPECT_THROW(KubeStore(make("s3cret", "")).get("Pod", "default", "tls"), ApiUnavailable);  // unknown CA
  // The token file is re-read on 401 (rotated service-account tokens).
  std::ofstream(dir + "/token") << "s3cret\n";
  KubeClient::Options o;
  o.config = api.config(true);
  o.config.ca_pem = ca;
  o.config.token = "expired";
  o.config.token_file = dir + "/token";
  KubeStore rotated(std::make_shared<KubeClient>(o));
  EXPECT_TRUE(rotated.get("Pod", "default", "tls"));
  std::filesystem::remove_all(dir);
}

TEST_F(KubeStoreTest, KubectlWritesWhatOurWatchReads) {
  std::string dir = (std::filesystem::temp_directory_path() / "cpp-kctl-XXXXXX").string();
  dir = mkdtemp(dir.data());
  std::ofstream(dir + "/kubeconfig") << "apiVersion: v1\nkind: Config\ncurrent-context: f\nclusters:\n- name: f\n"
                                        "  cluster: {server: 'http://127.0.0.1:"
                                     << api.port()
                                     << "'}\ncontexts:\n- name: f\n  context: {cluster: f, user: u}\nusers:\n- name: "
                                        "u\n  user: {}\n";
  std::ofstream(dir + "/np.yaml") << "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: "
                                     "deny-all\n  namespace: default\nspec:\n  podSelector: {}\n  policyTypes: "
                                     "[Ingress]\n";
  Recorder rec;
  auto w = store.watch("NetworkPolicy", rec.callback());
  // Our client reads the kubeconfig kubectl uses.
  auto cfg = load_kubeconfig(dir + "/kubeconfig");
  EXPECT_EQ(cfg.server, "http://127.0.0.1:" + std::to_string(api.port()));
  ASSERT_EQ(run("kubectl --kubeconfig " + dir + "/kubeconfig create -f " + dir + "/np.yaml >/dev/null"), 0);
  ASSERT_TRUE(rec.wait_for(1));
  auto [type, np] = rec.at(0);
  EXPECT_EQ(type, EventType::Added);
  EXPECT_EQ(np["metadata"]["name"], "deny-all");
  EXPECT_EQ(np["spec"]["policyTypes"][0], "Ingress");
  ASSERT_EQ(run("kubectl --kubeconfig " + dir + "/kubeconfig delete -f " + dir + "/np.yaml >/dev/null"), 0);
  ASSERT_TRUE(rec.wait_for(2));
  EXPECT_EQ(rec.at(1).first, EventType::Deleted);
  std::filesystem::remove_all(dir);
}
