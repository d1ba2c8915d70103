// Identity allocation throughput through etcd (identity-allocation-mode:
// kvstore): new ids from one node, the same labels from a second node (the
// id exists; only the node's reference is written), and two nodes creating
// disjoint new ids at once. Prints one JSON document.
//
//   cpp-identity-bench ENDPOINT quick|full
#include <algorithm>
#include <chrono>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/log.h"
#include "identity/kvstore_allocator.h"
#include "kvstore/etcd_client.h"

using namespace cpp;
using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

namespace {

labels::LabelSet labels_for(const std::string& run, int i) {
  return labels::LabelSet::parse({"k8s:app=bench-" + std::to_string(i), "k8s:run=" + run,
                                  "k8s:io.kubernetes.pod.namespace=bench"});
}

struct Node {
  std::unique_ptr<kvstore::EtcdClient> etcd;
  std::unique_ptr<identity::KvstoreAllocator> ids;
};

Node make_node(const std::string& endpoint, const std::string& name) {
  kvstore::EtcdOptions o;
  o.endpoints = {endpoint};
  Node n;
  n.etcd = std::make_unique<kvstore::EtcdClient>(o);
  identity::KvstoreAllocatorOptions ao;
  ao.node = name;
  n.ids = std::make_unique<identity::KvstoreAllocator>(*n.etcd, ao);
  if (!n.ids->wait_synced(std::chrono::seconds(30))) throw std::runtime_error("allocator did not sync with etcd");
  return n;
}

double rate(int n, Clock::duration d) { return n / std::chrono::duration<double>(d).count(); }

json stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {{"median", v[v.size() / 2]}, {"min", v.front()}, {"max", v.back()}, {"runs", v}};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: cpp-identity-bench ENDPOINT quick|full\n";
    return 2;
  }
  std::string endpoint = argv[1];
  bool full = std::string(argv[2]) == "full";
  const int n = full ? 2000 : 200;
  const int runs = full ? 5 : 1;
  spdlog::set_level(spdlog::level::warn);
  try {
    std::vector<double> fresh, existing, concurrent;
    for (int r = 0; r < runs; ++r) {
      Node a = make_node(endpoint, "bench-a"), b = make_node(endpoint, "bench-b");
      a.etcd->del_prefix(kvstore::keys::kIdentityId);
      a.etcd->del_prefix(kvstore::keys::kIdentityValue);
      std::string run = "r" + std::to_string(r);
      auto t0 = Clock::now();
      for (int i = 0; i < n; ++i) a.ids->allocate(labels_for(run, i), "u");
      fresh.push_back(rate(n, Clock::now() - t0));
      t0 = Clock::now();
      for (int i = 0; i < n; ++i) b.ids->allocate(labels_for(run, i), "u");
      existing.push_back(rate(n, Clock::now() - t0));
      t0 = Clock::now();
      std::thread ta([&] {
        for (int i = 0; i < n / 2; ++i) a.ids->allocate(labels_for(run + "-a", i), "u");
      });
      std::thread tb([&] {
        for (int i = 0; i < n / 2; ++i) b.ids->allocate(labels_for(run + "-b", i), "u");
      });
      ta.join();
      tb.join();
      concurrent.push_back(rate(n / 2 * 2, Clock::now() - t0));
      a.ids->shutdown(true);
      b.ids->shutdown(true);
    }
    json out{{"bench", "identity-alloc"},
             {"mode", full ? "full" : "quick"},
             {"ids_per_run", n},
             {"new_ids_per_s", stats(fresh)},
             {"existing_ids_per_s", stats(existing)},
             {"two_nodes_new_ids_per_s", stats(concurrent)}};
    std::cout << out.dump(1) << "\n";
  } catch (const std::exception& e) {
    std::cerr << "cpp-identity-bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
