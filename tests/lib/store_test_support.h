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

}  // namespace storetest
