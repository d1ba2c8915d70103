#pragma once
// What the ResourceStore tests of every backend (DirectoryStore in the unit
// tests, EtcdStore against real etcd) share: objects, a watch recorder and
// the checks whose expectations do not depend on the backend.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "store/store.h"

namespace storetest {

using nlohmann::json;

inline json pod(const std::string& name, const std::string& ns = "", const std::string& app = "web") {
  json o = {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", name}, {"labels", {{"app", app}}}}},
            {"spec", {{"nodeName", "node1"}}}};
  if (!ns.empty()) o["metadata"]["namespace"] = ns;
  return o;
}

inline json node(const std::string& name) {
  return {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", name}}}};
}

// The events a watch delivered, in order.
struct Recorder {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::pair<cpp::store::EventType, json>> events;

  cpp::store::WatchCallback callback() {
    return [this](cpp::store::EventType t, const json& o) {
      std::lock_guard<std::mutex> g(mu);
      events.emplace_back(t, o);
      cv.notify_all();
    };
  }
  // Waits until at least n events arrived (or the deadline passes).
  bool wait_for(size_t n, std::chrono::milliseconds deadline = std::chrono::seconds(20)) {
    std::unique_lock<std::mutex> lk(mu);
    return cv.wait_for(lk, deadline, [&] { return events.size() >= n; });
  }
  size_t size() {
    std::lock_guard<std::mutex> g(mu);
    return events.size();
  }
  std::pair<cpp::store::EventType, json> at(size_t i) {
    std::lock_guard<std::mutex> g(mu);
    return events.at(i);
  }
};

inline std::string name_of(const json& o) { return o["metadata"]["name"]; }

// Bad objects, unknown kinds and path-like names are refused; nothing is stored.
inline void check_put_validates(cpp::store::ResourceStore& store) {
  json bad = pod("a");
  bad["metadata"].erase("name");
  EXPECT_THROW(store.put(bad), std::invalid_argument);
  EXPECT_THROW(store.list("NoSuchKind"), std::invalid_argument);
  EXPECT_FALSE(store.get("Pod", "default", "../../etc/passwd"));
  EXPECT_TRUE(store.list("Pod").empty());
}

// A watch without replay sees only later changes in its namespace (not in
// one that merely shares its name as a prefix). quiet: how long to wait for
// events that must not come.
inline void check_watch_without_replay_and_namespace_filter(cpp::store::ResourceStore& store,
                                                            std::chrono::milliseconds quiet) {
  using cpp::store::EventType;
  store.put(pod("old", "team-a"));
  Recorder rec;
  auto w = store.watch("Pod", rec.callback(), cpp::store::WatchOptions{"team-a", false});
  EXPECT_EQ(rec.size(), 0u);
  store.put(pod("x", "team-b"));
  store.put(pod("y", "team-a"));
  store.put(pod("z", "team-a2"));
  store.remove("Pod", "team-a", "old");
  ASSERT_TRUE(rec.wait_for(2));
  std::this_thread::sleep_for(quiet);
  ASSERT_EQ(rec.size(), 2u);
  EXPECT_EQ(name_of(rec.at(0).second), "y");
  EXPECT_EQ(rec.at(1).first, EventType::Deleted);
  EXPECT_EQ(name_of(rec.at(1).second), "old");
}

// A callback that stops its own watch is the last one called.
inline void check_watch_stopped_from_its_own_callback(cpp::store::ResourceStore& store,
                                                      std::chrono::milliseconds quiet) {
  std::unique_ptr<cpp::store::WatchHandle> w;
  std::mutex mu;
  std::condition_variable cv;
  int calls = 0;
  w = store.watch("Pod", [&](cpp::store::EventType, const json&) {
    std::lock_guard<std::mutex> g(mu);
    ++calls;
    w->stop();
    cv.notify_all();
  });
  store.put(pod("a"));
  store.put(pod("b"));
  std::unique_lock<std::mutex> lk(mu);
  ASSERT_TRUE(cv.wait_for(lk, std::chrono::seconds(20), [&] { return calls >= 1; }));
  lk.unlock();
  std::this_thread::sleep_for(quiet);
  lk.lock();
  EXPECT_EQ(calls, 1);
  lk.unlock();
  w.reset();
}

// update(): a missing object is nullopt; a mutator that declines or changes
// nothing leaves the version; a real change bumps it and keeps uid; a change
// of the object's identity or an invalid result throws and stores nothing.
inline void check_update_contract(cpp::store::ResourceStore& store) {
  using cpp::store::PutOutcome;
  EXPECT_FALSE(store.update("Pod", "default", "missing", [](json&) { return true; }));
  auto created = store.put(pod("u"));
  const auto rv = created.object["metadata"]["resourceVersion"];
  auto declined = store.update("Pod", "default", "u", [](json& o) {
    o["status"]["phase"] = "Running";
    return false;
  });
  ASSERT_TRUE(declined);
  EXPECT_EQ(declined->outcome, PutOutcome::Unchanged);
  auto same = store.update("Pod", "default", "u", [](json&) { return true; });
  ASSERT_TRUE(same);
  EXPECT_EQ(same->outcome, PutOutcome::Unchanged);
  EXPECT_EQ((*store.get("Pod", "default", "u"))["metadata"]["resourceVersion"], rv);
  auto changed = store.update("Pod", "default", "u", [](json& o) {
    o["status"]["phase"] = "Running";
    return true;
  });
  ASSERT_TRUE(changed);
  EXPECT_EQ(changed->outcome, PutOutcome::Updated);
  auto now = *store.get("Pod", "default", "u");
  EXPECT_EQ(now["status"]["phase"], "Running");
  EXPECT_NE(now["metadata"]["resourceVersion"], rv);
  EXPECT_EQ(now["metadata"]["uid"], created.object["metadata"]["uid"]);
  EXPECT_EQ(now["metadata"]["generation"], 1);  // status is not spec
  EXPECT_THROW(store.update("Pod", "default", "u",
                            [](json& o) {
                              o["metadata"]["name"] = "other";
                              return true;
                            }),
               std::invalid_argument);
  EXPECT_THROW(store.update("Pod", "default", "u",
                            [](json& o) {
                              o["metadata"]["labels"]["app"] = 7;  // label values are strings
                              return true;
                            }),
               std::invalid_argument);
  EXPECT_FALSE(store.get("Pod", "default", "other"));
  EXPECT_EQ((*store.get("Pod", "default", "u"))["metadata"]["resourceVersion"], now["metadata"]["resourceVersion"]);
}

// create(): stores a new object (with server fields) and refuses, leaving it
// as it is, a second object of the same kind, namespace and name; an invalid
// object throws. Of several stores racing to create one name exactly one wins.
template <typename MakeStore>
void check_create_contract(cpp::store::ResourceStore& store, MakeStore make_store) {
  ASSERT_TRUE(store.create(pod("c", "", "first")));
  auto stored = store.get("Pod", "default", "c");
  ASSERT_TRUE(stored);
  EXPECT_FALSE((*stored)["metadata"].value("uid", "").empty());
  EXPECT_FALSE((*stored)["metadata"].value("resourceVersion", "").empty());
  EXPECT_FALSE(store.create(pod("c", "", "second")));
  auto after = store.get("Pod", "default", "c");
  ASSERT_TRUE(after);
  EXPECT_EQ((*after)["metadata"]["labels"]["app"], "first");
  EXPECT_EQ((*after)["metadata"]["resourceVersion"], (*stored)["metadata"]["resourceVersion"]);
  json bad = pod("d");
  bad["metadata"]["labels"]["app"] = 7;
  EXPECT_THROW(store.create(bad), std::invalid_argument);
  EXPECT_FALSE(store.get("Pod", "default", "d"));
  EXPECT_TRUE(store.create(node("n1")));
  EXPECT_FALSE(store.create(node("n1")));

  constexpr int kRacers = 4;
  std::vector<std::thread> racers;
  std::mutex mu;
  std::vector<std::string> winners;
  for (int t = 0; t < kRacers; ++t) {
    racers.emplace_back([&, t] {
      auto own = make_store();
      std::string app = "racer-" + std::to_string(t);
      if (own->create(pod("raced", "", app))) {
        std::lock_guard<std::mutex> g(mu);
        winners.push_back(app);
      }
    });
  }
  for (auto& th : racers) th.join();
  ASSERT_EQ(winners.size(), 1u);
  auto raced = store.get("Pod", "default", "raced");
  ASSERT_TRUE(raced);
  EXPECT_EQ((*raced)["metadata"]["labels"]["app"], winners[0]);
}

// remove_version(): removes only the version the caller read; an object
// changed, or deleted and re-created, since stays; a gone object is false.
inline void check_remove_version_contract(cpp::store::ResourceStore& store) {
  store.put(pod("rv"));
  auto v1 = store.get("Pod", "default", "rv");
  ASSERT_TRUE(v1);
  std::string rv1 = (*v1)["metadata"]["resourceVersion"];
  store.put(pod("rv", "", "changed"));
  EXPECT_FALSE(store.remove_version("Pod", "default", "rv", rv1));
  auto v2 = store.get("Pod", "default", "rv");
  ASSERT_TRUE(v2);
  EXPECT_EQ((*v2)["metadata"]["labels"]["app"], "changed");

  std::string rv2 = (*v2)["metadata"]["resourceVersion"];
  ASSERT_TRUE(store.remove("Pod", "default", "rv"));
  ASSERT_TRUE(store.create(pod("rv", "", "again")));
  EXPECT_FALSE(store.remove_version("Pod", "default", "rv", rv2));
  auto v3 = store.get("Pod", "default", "rv");
  ASSERT_TRUE(v3);
  EXPECT_EQ((*v3)["metadata"]["labels"]["app"], "again");

  EXPECT_FALSE(store.remove_version("Pod", "default", "rv", "not-a-version"));
  EXPECT_TRUE(store.get("Pod", "default", "rv"));
  EXPECT_TRUE(store.remove_version("Pod", "default", "rv", (*v3)["metadata"]["resourceVersion"]));
  EXPECT_FALSE(store.get("Pod", "default", "rv"));
  EXPECT_FALSE(store.remove_version("Pod", "default", "rv", (*v3)["metadata"]["resourceVersion"]));

  store.put(node("rv-node"));
  auto n = store.get("Node", "", "rv-node");
  ASSERT_TRUE(n);
  EXPECT_TRUE(store.remove_version("Node", "", "rv-node", (*n)["metadata"]["resourceVersion"]));
}

// Writers that each own one key of a shared object's status, each through its
// own store (as the agents of several nodes are), lose none of each other's
// keys.
template <typename MakeStore>
void check_concurrent_updates_lose_nothing(cpp::store::ResourceStore& store, MakeStore make_store) {
  store.put(pod("shared-status"));
  constexpr int kWriters = 4, kRounds = 10;
  std::vector<std::thread> writers;
  for (int t = 0; t < kWriters; ++t) {
    writers.emplace_back([&, t] {
      auto own = make_store();
      for (int i = 0; i < kRounds; ++i)
        own->update("Pod", "default", "shared-status", [&](json& o) {
          o["status"]["writers"]["w" + std::to_string(t)] = i;
          return true;
        });
    });
  }
  for (auto& th : writers) th.join();
  auto got = store.get("Pod", "default", "shared-status");
  ASSERT_TRUE(got);
  for (int t = 0; t < kWriters; ++t) EXPECT_EQ((*got)["status"]["writers"]["w" + std::to_string(t)], kRounds - 1);
}

}  // namespace storetest
