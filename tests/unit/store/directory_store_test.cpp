#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "store/store.h"
#include "store_test_support.h"

using namespace cpp::store;
using nlohmann::json;
namespace fs = std::filesystem;
using storetest::node;
using storetest::pod;
using storetest::Recorder;
using namespace std::chrono_literals;

namespace {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "cpp-store-test-XXXXXX").string();
    char* p = mkdtemp(tmpl.data());
    if (!p) throw std::runtime_error("mkdtemp failed");
    path_ = p;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

TEST(DirectoryStore, PutGetListRemove) {
  TempDir tmp;
  DirectoryStore store(tmp.path());
  auto r = store.put(pod("a"));
  EXPECT_EQ(r.outcome, PutOutcome::Created);
  EXPECT_EQ(r.object["metadata"]["namespace"], "default");
  EXPECT_FALSE(r.object["metadata"]["uid"].get<std::string>().empty());
  EXPECT_FALSE(r.object["metadata"]["resourceVersion"].get<std::string>().empty());
  EXPECT_FALSE(r.object["metadata"]["creationTimestamp"].get<std::string>().empty());
  EXPECT_TRUE(fs::exists(tmp.path() + "/Pod/default/a.json"));

  store.put(pod("b", "other"));
  store.put(node("node1"));
  EXPECT_TRUE(fs::exists(tmp.path() + "/Node/_cluster/node1.json"));

  auto got = store.get("Pod", "default", "a");
  ASSERT_TRUE(got);
  EXPECT_EQ((*got)["spec"]["nodeName"], "node1");
  EXPECT_TRUE(store.get("Pod", "", "a"));  // "" means default for namespaced kinds
  EXPECT_FALSE(store.get("Pod", "other", "a"));
  EXPECT_TRUE(store.get("Node", "whatever", "node1"));  // ns ignored for cluster-scoped kinds

  EXPECT_EQ(store.list("Pod").size(), 2u);
  EXPECT_EQ(store.list("Pod", "other").size(), 1u);
  EXPECT_EQ(store.list("Pod", "other")[0]["metadata"]["name"], "b");
  EXPECT_EQ(store.list("Node").size(), 1u);
  EXPECT_TRUE(store.list("CiliumNetworkPolicy").empty());

  EXPECT_TRUE(store.remove("Pod", "default", "a"));
  EXPECT_FALSE(store.remove("Pod", "default", "a"));
  EXPECT_FALSE(store.get("Pod", "default", "a"));
  EXPECT_EQ(store.list("Pod").size(), 1u);
}

TEST(DirectoryStore, UpdateKeepsIdentityAndBumpsVersion) {
  TempDir tmp;
  DirectoryStore store(tmp.path());
  auto first = store.put(pod("a")).object;
  auto same = store.put(pod("a"));
  EXPECT_EQ(same.outcome, PutOutcome::Unchanged);
  EXPECT_EQ(same.object["metadata"]["resourceVersion"], first["metadata"]["resourceVersion"]);

  auto second = store.put(pod("a", "", "db"));
  EXPECT_EQ(second.outcome, PutOutcome::Updated);
  EXPECT_EQ(second.object["metadata"]["uid"], first["metadata"]["uid"]);
  EXPECT_EQ(second.object["metadata"]["creationTimestamp"], first["metadata"]["creationTimestamp"]);
  EXPECT_NE(second.object["metadata"]["resourceVersion"], first["metadata"]["resourceVersion"]);
  EXPECT_EQ(second.object["metadata"]["generation"], 1);  // labels changed, spec did not

  json changed = pod("a", "", "db");
  changed["spec"]["nodeName"] = "node2";
  auto third = store.put(changed).object;
  EXPECT_EQ(third["metadata"]["generation"], 2);

  // Putting back an object read earlier (stale resourceVersion) still updates.
  json stale = first;
  stale["metadata"]["labels"]["app"] = "cache";
  auto fourth = store.put(stale);
  EXPECT_EQ(fourth.outcome, PutOutcome::Updated);
  EXPECT_NE(fourth.object["metadata"]["resourceVersion"], third["metadata"]["resourceVersion"]);
}

TEST(DirectoryStore, PutValidates) {
  TempDir tmp;
  DirectoryStore store(tmp.path());
  storetest::check_put_validates(store);
}

TEST(DirectoryStore, CorruptFileIsSkipped) {
  TempDir tmp;
  DirectoryStore store(tmp.path());
  store.put(pod("good"));
  fs::create_directories(tmp.path() + "/Pod/default");
  std::ofstream(tmp.path() + "/Pod/default/broken.json") << "{ not json";
  std::ofstream(tmp.path() + "/Pod/default/wrong.json") << R"({"kind":"Pod","metadata":{"name":"other"}})";
  std::ofstream(tmp.path() + "/Pod/default/leftover.json.tmp") << "partial";
  auto pods = store.list("Pod");
  ASSERT_EQ(pods.size(), 1u);
  EXPECT_EQ(pods[0]["metadata"]["name"], "good");
  EXPECT_FALSE(store.get("Pod", "default", "broken"));

  Recorder rec;
  auto w = store.watch("Pod", rec.callback());
  EXPECT_EQ(rec.size(), 1u);
  // Repairing the file makes it appear.
  store.put(pod("broken"));
  ASSERT_TRUE(rec.wait_for(2));
  w->stop();
  EXPECT_EQ(rec.events[1].first, EventType::Added);
  EXPECT_EQ(rec.events[1].second["metadata"]["name"], "broken");
}

TEST(DirectoryStore, WatchDeliversEvents) {
  TempDir tmp;
  DirectoryStore store(tmp.path(), 50ms);
  store.put(pod("existing"));
  store.put(node("node1"));  // other kind: not delivered

  Recorder rec;
  auto w = store.watch("Pod", rec.callback());
  ASSERT_EQ(rec.size(), 1u);  // replayed synchronously
  EXPECT_EQ(rec.events[0].first, EventType::Added);
  EXPECT_EQ(rec.events[0].second["metadata"]["name"], "existing");

  store.put(pod("new"));
  ASSERT_TRUE(rec.wait_for(2));
  EXPECT_EQ(rec.events[1].first, EventType::Added);
  EXPECT_EQ(rec.events[1].second["metadata"]["name"], "new");

  store.put(pod("new", "", "changed"));
  ASSERT_TRUE(rec.wait_for(3));
  EXPECT_EQ(rec.events[2].first, EventType::Modified);
  EXPECT_EQ(rec.events[2].second["metadata"]["labels"]["app"], "changed");

  store.remove("Pod", "default", "existing");
  ASSERT_TRUE(rec.wait_for(4));
  EXPECT_EQ(rec.events[3].first, EventType::Deleted);
  EXPECT_EQ(rec.events[3].second["metadata"]["name"], "existing");

  w->stop();
  store.put(pod("after-stop"));
  std::this_thread::sleep_for(200ms);  // give a stopped watch the chance to misbehave
  EXPECT_EQ(rec.size(), 4u);
}

TEST(DirectoryStore, WatchWithoutReplayAndNamespaceFilter) {
  TempDir tmp;
  DirectoryStore store(tmp.path(), 50ms);
  storetest::check_watch_without_replay_and_namespace_filter(store, 150ms);
}

TEST(DirectoryStore, TwoStoresShareADirectory) {
  // Two agents of a lab: separate store instances (as separate processes would be) on one directory.
  TempDir tmp;
  DirectoryStore a(tmp.path(), 50ms), b(tmp.path(), 50ms);
  Recorder rec;
  auto w = b.watch("CiliumNetworkPolicy", rec.callback());
  json cnp = json::parse(R"({"apiVersion":"cilium.io/v2","kind":"CiliumNetworkPolicy",
      "metadata":{"name":"p"},"spec":{"endpointSelector":{}}})");
  a.put(cnp);
  ASSERT_TRUE(rec.wait_for(1));
  EXPECT_TRUE(b.get("CiliumNetworkPolicy", "default", "p"));

  // Concurrent writers never lose an update nor reuse a resourceVersion.
  std::vector<std::thread> writers;
  std::mutex mu;
  std::set<std::string> versions;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      DirectoryStore s(tmp.path());
      for (int i = 0; i < 20; ++i) {
        auto r = s.put(pod("w" + std::to_string(t) + "-" + std::to_string(i)));
        std::lock_guard<std::mutex> g(mu);
        versions.insert(r.object["metadata"]["resourceVersion"].get<std::string>());
      }
    });
  }
  for (auto& th : writers) th.join();
  EXPECT_EQ(versions.size(), 80u);
  EXPECT_EQ(a.list("Pod").size(), 80u);
}

TEST(DirectoryStore, WatchStoppedFromItsOwnCallback) {
  TempDir tmp;
  DirectoryStore store(tmp.path(), 20ms);
  storetest::check_watch_stopped_from_its_own_callback(store, 100ms);
}

TEST(DirectoryStore, UpdateContract) {
  TempDir tmp;
  DirectoryStore store(tmp.path());
  storetest::check_update_contract(store);
}

TEST(DirectoryStore, ConcurrentUpdatesLoseNothing) {
  TempDir tmp;
  DirectoryStore store(tmp.path());
  storetest::check_concurrent_updates_lose_nothing(store, [&] { return std::make_unique<DirectoryStore>(tmp.path()); });
}

TEST(DirectoryStore, CreateContract) {
  TempDir tmp;
  DirectoryStore store(tmp.path());
  storetest::check_create_contract(store, [&] { return std::make_unique<DirectoryStore>(tmp.path()); });
}

TEST(DirectoryStore, RemoveVersionContract) {
  TempDir tmp;
  DirectoryStore store(tmp.path());
  storetest::check_remove_version_contract(store);
}
