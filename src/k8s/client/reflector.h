#pragma once
// List+watch of one kind (optionally one namespace), as client-go's
// reflector: a complete list (pages of `limit`, following `continue`), then a
// watch from the list's resourceVersion with bookmarks; a broken watch
// resumes from the last version seen, a 410 (Gone/Expired) relists, errors
// back off exponentially. Every change reaches the callback once, in order,
// through an ObjectCache, so a relist reports what was deleted meanwhile and
// a failed list never deletes anything.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "k8s/client/kube_client.h"
#include "k8s/client/object_cache.h"

namespace cpp::k8s {

class Reflector {
 public:
  using Callback = std::function<void(const CacheEvent&)>;
  struct Options {
    int page_size = 500;
    int watch_timeout_s = 300;  // timeoutSeconds of each watch request
    std::chrono::milliseconds backoff_min{200}, backoff_max{10000};
  };
  Reflector(KubeClient& client, std::string kind, std::string ns, Callback cb, Options opts);
  ~Reflector();

  // One list, now, on the caller's thread; deliver: Added for every object
  // (otherwise they only fill the cache). false when it failed (start()'s
  // thread then keeps trying and delivers late).
  bool list_now(bool deliver);
  void start();
  // After stop() returns the callback is never called again.
  void stop();

 private:
  void run();
  void list_all(bool deliver);
  void watch_once();
  bool sleep_backoff(std::chrono::milliseconds& backoff);

  KubeClient& client_;
  std::string kind_, ns_;
  Callback cb_;
  Options opts_;
  ObjectCache cache_;
  std::string version_;       // resume point of the next watch
  bool listed_ = false;
  bool deliver_next_list_ = true;
  std::atomic<bool> stopping_{false};
  std::atomic<KubeClient::StreamId> stream_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
};

}  // namespace cpp::k8s
