#pragma once
// Cluster-pool IPAM, operator side: gives every CiliumNode its PodCIDRs
// (spec.ipam.podCIDRs), releases them when the CiliumNode is deleted, and
// writes status.ipam.operator-status.error when the pool is exhausted or a
// node carries a CIDR another node holds. Allocations are rebuilt from the
// stored CiliumNodes before anything is assigned, so a new leader never
// hands out a block twice.
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "ipam/cluster_pool.h"
#include "store/store.h"

namespace cpp::op {

class IpamController {
 public:
  IpamController(store::ResourceStore& store, ipam::ClusterPoolConfig cfg,
                 std::chrono::milliseconds resync = std::chrono::seconds(10));
  ~IpamController();

  void start();  // rebuild, assign, then follow CiliumNode changes
  void stop();

 private:
  void enqueue(const std::string& node);
  void enqueue_all();
  void worker();
  void process(const std::string& node);
  void put(const nlohmann::json& obj);

  store::ResourceStore& store_;
  ipam::ClusterPool pool_;
  std::chrono::milliseconds resync_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::set<std::string> queued_;
  bool stopping_ = false;
  std::unique_ptr<store::WatchHandle> watch_;
  std::thread thread_;
};

}  // namespace cpp::op
