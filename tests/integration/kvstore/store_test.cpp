// EtcdStore against a real etcd: the ResourceStore contract DirectoryStore
// follows (tests/unit/store/directory_store_test.cpp), plus what only a
// remote store has: corrupt values written by others, concurrent writers,
// etcd unreachable, compaction.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "etcd_fixture.h"
#include "kvstore/etcd_client.h"
#include "store/etcd_store.h"
#include "store_test_support.h"

using namespace cpp::store;
using namespace std::chrono_literals;
using cpp::kvstore::EtcdClient;
using kvtest::EtcdCluster;
using kvtest::eventually;
using nlohmann::json;
using storetest::name_of;
using storetest::node;
using storetest::pod;
using storetest::Recorder;

namespace {

std::shared_ptr<EtcdClient> client_for(std::vector<std::string> endpoints,
                                       std::chrono::milliseconds timeout = 10s) {
  return std::make_shared<EtcdClient>(kvtest::client_options(std::move(endpoints), timeout, 1s));
}

class EtcdStoreTest : public ::testing::Test {
 protected:
  EtcdCluster etcd{1};
  std::shared_ptr<EtcdClient> client = client_for(etcd.endpoints());
  EtcdStore store{client};
};

}  // namespace

TEST_F(EtcdStoreTest, PutGetListRemove) {
  auto r = store.put(pod("a"));
  EXPECT_EQ(r.outcome, PutOutcome::Created);
  EXPECT_EQ(r.object["metadata"]["namespace"], "default");
  EXPECT_FALSE(r.object["metadata"]["uid"].get<std::string>().empty());
  EXPECT_FALSE(r.object["metadata"]["creationTimestamp"].get<std::string>().empty());
  auto raw = client->get("cilium/resources/Pod/default/a");
  ASSERT_TRUE(raw);
  EXPECT_EQ(r.object["metadata"]["resourceVersion"], std::to_string(raw->mod_revision));
  EXPECT_FALSE(json::parse(raw->value)["metadata"].contains("resourceVersion"));

  store.put(pod("b", "other"));
  store.put(pod("c", "a-b"));
  store.put(node("node1"));
  EXPECT_TRUE(client->get("cilium/resources/Node/_cluster/node1"));

  auto got = store.get("Pod", "default", "a");
  ASSERT_TRUE(got);
  EXPECT_EQ((*got)["spec"]["nodeName"], "node1");
  EXPECT_EQ((*got)["metadata"]["resourceVersion"], r.object["metadata"]["resourceVersion"]);
  EXPECT_TRUE(store.get("Pod", "", "a"));
  EXPECT_FALSE(store.get("Pod", "other", "a"));
  EXPECT_TRUE(store.get("Node", "whatever", "node1"));

  // Sorted by namespace then name, not by etcd key bytes ("a-b/" < "a/" there... and "default" > "a-b").
  auto pods = store.list("Pod");
  ASSERT_EQ(pods.size(), 3u);
  EXPECT_EQ(pods[0]["metadata"]["namespace"], "a-b");
  EXPECT_EQ(pods[1]["metadata"]["namespace"], "default");
  EXPECT_EQ(pods[2]["metadata"]["namespace"], "other");
  EXPECT_EQ(store.list("Pod", "other").size(), 1u);
  EXPECT_EQ(store.list("Node").size(), 1u);
  EXPECT_TRUE(store.list("CiliumNetworkPolicy").empty());

  EXPECT_TRUE(store.remove("Pod", "default", "a"));
  EXPECT_FALSE(store.remove("Pod", "default", "a"));
  EXPECT_FALSE(store.get("Pod", "default", "a"));
  EXPECT_EQ(store.list("Pod").size(), 2u);
}

TEST_F(EtcdStoreTest, UpdateKeepsIdentityAndBumpsVersion) {
  auto first = store.put(pod("a")).object;
  auto same = store.put(pod("a"));
  EXPECT_EQ(same.outcome, PutOutcome::Unchanged);
  EXPECT_EQ(same.object["metadata"]["resourceVersion"], first["metadata"]["resourceVersion"]);

  auto second = store.put(pod("a", "", "db"));
  EXPECT_EQ(second.outcome, PutOutcome::Updated);
  EXPECT_EQ(second.object["metadata"]["uid"], first["metadata"]["uid"]);
  EXPECT_EQ(second.object["metadata"]["creationTimestamp"], first["metadata"]["creationTimestamp"]);
  EXPECT_NE(second.object["metadata"]["resourceVersion"], first["metadata"]["resourceVersion"]);
  EXPECT_EQ(second.object["metadata"]["generation"], 1);

  json changed = pod("a", "", "db");
  changed["spec"]["nodeName"] = "node2";
  auto third = store.put(changed).object;
  EXPECT_EQ(third["metadata"]["generation"], 2);
  EXPECT_EQ(store.get("Pod", "default", "a")->at("metadata").at("generation"), 2);

  json stale = first;  // an object read earlier, stale resourceVersion
  stale["metadata"]["labels"]["app"] = "cache";
  auto fourth = store.put(stale);
  EXPECT_EQ(fourth.outcome, PutOutcome::Updated);
  EXPECT_NE(fourth.object["metadata"]["resourceVersion"], third["metadata"]["resourceVersion"]);
}

TEST_F(EtcdStoreTest, PutValidates) {
  storetest::check_put_validates(store);
}

TEST_F(EtcdStoreTest, CorruptValuesAreSkipped) {
  store.put(pod("good"));
  store.put(pod("turns-bad"));
  client->put("cilium/resources/Pod/default/broken", "{ not json");
  client->put("cilium/resources/Pod/default/wrong", R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"other"}})");
  client->put("cilium/resources/Pod/too/many/parts", pod("parts").dump());
  client->put("cilium/resources/Node/ns1/n", node("n").dump());  // cluster-scoped under a namespace
  auto pods = store.list("Pod");
  ASSERT_EQ(pods.size(), 2u);
  EXPECT_EQ(name_of(pods[0]), "good");
  EXPECT_FALSE(store.get("Pod", "default", "broken"));
  EXPECT_FALSE(store.get("Pod", "default", "wrong"));
  EXPECT_TRUE(store.list("Node").empty());

  Recorder rec;
  auto w = store.watch("Pod", rec.callback());
  ASSERT_EQ(rec.size(), 2u);
  // Repairing the value makes it appear; corrupting a known one makes it disappear.
  store.put(pod("broken"));
  ASSERT_TRUE(rec.wait_for(3));
  EXPECT_EQ(rec.at(2).first, EventType::Added);
  EXPECT_EQ(name_of(rec.at(2).second), "broken");
  client->put("cilium/resources/Pod/default/turns-bad", "garbage");
  ASSERT_TRUE(rec.wait_for(4));
  EXPECT_EQ(rec.at(3).first, EventType::Deleted);
  EXPECT_EQ(name_of(rec.at(3).second), "turns-bad");
  // Overwriting a corrupt value with put works (it is treated as absent).
  EXPECT_EQ(store.put(pod("turns-bad")).outcome, PutOutcome::Created);
  ASSERT_TRUE(rec.wait_for(5));
  EXPECT_EQ(rec.at(4).first, EventType::Added);
}

TEST_F(EtcdStoreTest, WatchDeliversEvents) {
  store.put(pod("existing"));
  store.put(node("node1"));

  Recorder rec;
  auto w = store.watch("Pod", rec.callback());
  ASSERT_EQ(rec.size(), 1u);  // replayed synchronously
  EXPECT_EQ(rec.at(0).first, EventType::Added);
  EXPECT_EQ(name_of(rec.at(0).second), "existing");

  auto created = store.put(pod("new")).object;
  ASSERT_TRUE(rec.wait_for(2));
  EXPECT_EQ(rec.at(1).first, EventType::Added);
  EXPECT_EQ(rec.at(1).second, created);  // same object, resourceVersion included

  store.put(pod("new", "", "changed"));
  ASSERT_TRUE(rec.wait_for(3));
  EXPECT_EQ(rec.at(2).first, EventType::Modified);
  EXPECT_EQ(rec.at(2).second["metadata"]["labels"]["app"], "changed");

  store.put(pod("new", "", "changed"));  // unchanged: no event
  store.remove("Pod", "default", "existing");
  ASSERT_TRUE(rec.wait_for(4));
  EXPECT_EQ(rec.at(3).first, EventType::Deleted);
  EXPECT_EQ(name_of(rec.at(3).second), "existing");

  w->stop();
  store.put(pod("after-stop"));
  std::this_thread::sleep_for(300ms);  // give a stopped watch the chance to misbehave
  EXPECT_EQ(rec.size(), 4u);
}

TEST_F(EtcdStoreTest, WatchWithoutReplayAndNamespaceFilter) {
  storetest::check_watch_without_replay_and_namespace_filter(store, 300ms);
}

TEST_F(EtcdStoreTest, ConcurrentWritersLoseNothing) {
  // Four writers, each with its own client and store (as four agents would be).
  std::vector<std::thread> writers;
  std::mutex mu;
  std::set<std::string> versions, uids;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      EtcdStore s(client_for(etcd.endpoints()));
      for (int i = 0; i < 10; ++i) {
        json p = pod("shared");
        p["spec"]["nodeName"] = "w" + std::to_string(t) + "-" + std::to_string(i);  // every write changes spec
        auto r = s.put(p);
        auto own = s.put(pod("w" + std::to_string(t) + "-" + std::to_string(i)));
        std::lock_guard<std::mutex> g(mu);
        versions.insert(r.object["metadata"]["resourceVersion"].get<std::string>());
        versions.insert(own.object["metadata"]["resourceVersion"].get<std::string>());
        uids.insert(r.object["metadata"]["uid"].get<std::string>());
      }
    });
  }
  for (auto& th : writers) th.join();
  EXPECT_EQ(versions.size(), 80u);
  EXPECT_EQ(uids.size(), 1u);  // the shared object kept its uid through every writer
  auto shared = store.get("Pod", "default", "shared");
  ASSERT_TRUE(shared);
  EXPECT_EQ((*shared)["metadata"]["generation"], 40);  // one bump per spec change, none lost
  EXPECT_EQ(store.list("Pod").size(), 41u);
}

TEST_F(EtcdStoreTest, UpdateContract) { storetest::check_update_contract(store); }

TEST_F(EtcdStoreTest, ConcurrentUpdatesLoseNothing) {
  storetest::check_concurrent_updates_lose_nothing(
      store, [&] { return std::make_unique<EtcdStore>(client_for(etcd.endpoints())); });
}

TEST_F(EtcdStoreTest, CreateContract) {
  storetest::check_create_contract(store, [&] { return std::make_unique<EtcdStore>(client_for(etcd.endpoints())); });
}

TEST_F(EtcdStoreTest, RemoveVersionContract) { storetest::check_remove_version_contract(store); }

TEST_F(EtcdStoreTest, WatchStoppedFromItsOwnCallback) {
  storetest::check_watch_stopped_from_its_own_callback(store, 300ms);
}

TEST_F(EtcdStoreTest, UnreachableEtcdFailsClearlyAndWatchCatchesUp) {
  store.put(pod("before"));
  kvtest::TcpProxy relay(kvtest::client_port_of(etcd.endpoint(0)));
  auto remote = client_for({relay.endpoint()}, 2s);
  EtcdStore far(remote);
  EXPECT_TRUE(far.get("Pod", "default", "before"));
  relay.stop();

  try {
    far.list("Pod");
    ADD_FAILURE() << "list succeeded without etcd";
  } catch (const cpp::kvstore::Unavailable& e) {
    EXPECT_NE(std::string(e.what()).find(relay.endpoint().substr(7)), std::string::npos) << e.what();
  }
  EXPECT_THROW(far.put(pod("x")), cpp::kvstore::Unavailable);

  Recorder rec;
  auto t0 = std::chrono::steady_clock::now();
  auto w = far.watch("Pod", rec.callback());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);  // returns instead of waiting for etcd
  EXPECT_EQ(rec.size(), 0u);
  store.put(pod("while-away"));

  relay.start();
  ASSERT_TRUE(rec.wait_for(2));  // the replay, late
  std::set<std::string> names{name_of(rec.at(0).second), name_of(rec.at(1).second)};
  EXPECT_EQ(names, (std::set<std::string>{"before", "while-away"}));
  store.put(pod("live"));
  ASSERT_TRUE(rec.wait_for(3));
  EXPECT_EQ(name_of(rec.at(2).second), "live");
}

TEST_F(EtcdStoreTest, CompactedWatchRelistsAndDeliversTheDifference) {
  store.put(pod("stays"));
  store.put(pod("changes"));
  store.put(pod("goes"));
  kvtest::TcpProxy relay(kvtest::client_port_of(etcd.endpoint(0)));
  EtcdStore far(client_for({relay.endpoint()}, 2s));
  Recorder rec;
  auto w = far.watch("Pod", rec.callback());
  ASSERT_EQ(rec.size(), 3u);

  // Cut the watcher off, change things, and compact the history it missed.
  relay.stop();
  store.put(pod("changes", "", "v2"));
  store.remove("Pod", "default", "goes");
  store.put(pod("appears"));
  int64_t rev = client->put("unrelated", "x");
  etcd.etcdctl(0, "compact " + std::to_string(rev));
  relay.start();

  ASSERT_TRUE(rec.wait_for(6));
  std::this_thread::sleep_for(300ms);
  ASSERT_EQ(rec.size(), 6u);
  std::map<std::string, EventType> got;
  for (size_t i = 3; i < 6; ++i) got[name_of(rec.at(i).second)] = rec.at(i).first;
  EXPECT_EQ(got["changes"], EventType::Modified);
  EXPECT_EQ(got["goes"], EventType::Deleted);
  EXPECT_EQ(got["appears"], EventType::Added);
  EXPECT_FALSE(got.count("stays"));

  store.put(pod("after"));  // live again after the re-list
  ASSERT_TRUE(rec.wait_for(7));
  EXPECT_EQ(name_of(rec.at(6).second), "after");
}
