#include "operator/ipam_controller.h"

#include <algorithm>

#include "common/log.h"
#include "ipam/cilium_node.h"

namespace cpp::op {

using json = nlohmann::json;

namespace {

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& e : v) s += (s.empty() ? "" : "; ") + e;
  return s;
}

json content(json obj) {
  if (obj.contains("metadata") && obj["metadata"].is_object())
    for (const char* k : {"resourceVersion", "generation", "uid", "creationTimestamp"}) obj["metadata"].erase(k);
  return obj;
}

}  // namespace

IpamController::IpamController(store::ResourceStore& store, ipam::ClusterPoolConfig cfg,
                               std::chrono::milliseconds resync)
    : store_(store), pool_(cfg), resync_(resync) {}

IpamController::~IpamController() { stop(); }

void IpamController::start() {
  // Rebuild first: every block already on a CiliumNode is taken, oldest
  // object first so that of two nodes claiming one block the older keeps it.
  auto nodes = store_.list("CiliumNode");
  std::stable_sort(nodes.begin(), nodes.end(), [](const json& a, const json& b) {
    return a["metadata"].value("creationTimestamp", "") < b["metadata"].value("creationTimestamp", "");
  });
  for (const auto& n : nodes) {
    std::string name = n["metadata"].value("name", "");
    for (const auto& why : pool_.restore(name, ipam::pod_cidrs_of(n)))
      spdlog::warn("CiliumNode {}: {}", name, why);
  }
  spdlog::info("cluster-pool IPAM: rebuilt from {} CiliumNodes", nodes.size());
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { worker(); });
  for (const auto& n : nodes) enqueue(n["metadata"].value("name", ""));
  store::WatchOptions wo;
  wo.replay_existing = false;
  watch_ = store_.watch(
      "CiliumNode", [this](store::EventType, const json& obj) { enqueue(obj["metadata"].value("name", "")); }, wo);
}

void IpamController::stop() {
  if (watch_) watch_->stop();
  watch_.reset();
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

void IpamController::enqueue(const std::string& node) {
  if (node.empty()) return;
  std::lock_guard<std::mutex> l(mu_);
  if (queued_.insert(node).second) queue_.push_back(node);
  cv_.notify_all();
}

void IpamController::enqueue_all() {
  for (const auto& n : store_.list("CiliumNode")) enqueue(n["metadata"].value("name", ""));
}

void IpamController::worker() {
  auto next_resync = std::chrono::steady_clock::now() + resync_;
  while (true) {
    std::string node;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait_until(l, next_resync, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      if (!queue_.empty()) {
        node = queue_.front();
        queue_.pop_front();
        queued_.erase(node);
      }
    }
    try {
      if (node.empty()) {
        // Periodic resync: repairs lost updates and retries exhausted nodes.
        next_resync = std::chrono::steady_clock::now() + resync_;
        enqueue_all();
      } else {
        process(node);
      }
    } catch (const std::exception& e) {
      spdlog::warn("cluster-pool IPAM: node {}: {}; will retry", node.empty() ? "(resync)" : node, e.what());
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait_for(l, std::chrono::milliseconds(500), [&] { return stopping_; });
      if (!node.empty() && queued_.insert(node).second) queue_.push_back(node);
    }
  }
}

void IpamController::put(const json& obj) { store_.put(obj); }

void IpamController::process(const std::string& node) {
  auto obj = store_.get("CiliumNode", "", node);
  if (!obj) {
    auto had = pool_.of(node);
    if (had.empty()) return;
    pool_.release(node);
    std::string list;
    for (const auto& c : had) list += (list.empty() ? "" : ",") + c.str();
    spdlog::info("cluster-pool IPAM: node {} is gone; released {}", node, list);
    // A freed block may be what an exhausted node waits for.
    enqueue_all();
    return;
  }
  std::vector<std::string> bad;
  auto cidrs = ipam::pod_cidrs_of(*obj, &bad);
  auto problems = pool_.restore(node, cidrs);
  for (const auto& b : bad) problems.push_back("podCIDRs entry " + b + " is not a CIDR");
  std::string error;
  if (problems.empty() && !pool_.complete(node)) {
    // A family the node already has a CIDR of (one outside the pool,
    // configured on the agent) needs no block.
    bool has_v4 = false, has_v6 = false;
    for (const auto& c : cidrs) (c.addr.v6 ? has_v6 : has_v4) = true;
    try {
      pool_.allocate(node, !has_v4, !has_v6);
    } catch (const ipam::PoolExhausted& e) {
      error = std::string("cluster-pool IPAM: ") + e.what();
    }
  } else if (!problems.empty()) {
    error = "cluster-pool IPAM: " + join(problems);
  }
  json desired = ipam::with_operator_error(ipam::with_pod_cidrs(*obj, pool_.of(node)), error);
  if (content(desired) == content(*obj)) return;
  if (!error.empty())
    spdlog::warn("CiliumNode {}: {}", node, error);
  else
    spdlog::info("CiliumNode {}: podCIDRs {}", node, desired["spec"]["ipam"]["podCIDRs"].dump());
  put(desired);
}

}  // namespace cpp::op
