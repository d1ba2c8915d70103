// Policy computation at the scale: 1,000 identities x 500 rules
// over 100 local endpoints. Prints JSON: time and memory to compute
// everything, and the cost of one new pod identity (incremental) against a
// full recompute of the same state.
#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "labels/labels.h"
#include "policy/engine.h"

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr int kIdentities = 1000;
constexpr int kRules = 500;
constexpr int kEndpoints = 100;
constexpr int kApps = 250;

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

size_t heap_bytes() { return mallinfo2().uordblks; }

// Every pod of an app lives in the app's namespace.
std::string ns_of(int app) { return "ns" + std::to_string(app % 10); }

cpp::labels::LabelSet pod(int i) {
  return cpp::labels::LabelSet::parse({"k8s:app=app" + std::to_string(i % kApps), "k8s:tier=t" + std::to_string(i % 7),
                                       "k8s:io.kubernetes.pod.namespace=" + ns_of(i % kApps),
                                       "k8s:io.cilium.k8s.policy.cluster=default"});
}

// Rule r: pods of app r%kApps accept TCP on one port from the next app
// (in that app's namespace).
json rule(int r) {
  int app = r % kApps, peer = (r + 1) % kApps;
  std::string ns = ns_of(app);
  return {{"apiVersion", "cilium.io/v2"},
          {"kind", "CiliumNetworkPolicy"},
          {"metadata", {{"name", "r" + std::to_string(r)}, {"namespace", ns}}},
          {"spec",
           {{"endpointSelector", {{"matchLabels", {{"app", "app" + std::to_string(app)}}}}},
            {"ingress",
             json::array({{{"fromEndpoints", json::array({{{"matchLabels",
                                                            {{"app", "app" + std::to_string(peer)},
                                                             {"k8s:io.kubernetes.pod.namespace", ns_of(peer)}}}}})},
                           {"toPorts", json::array({{{"ports", json::array({{{"port", std::to_string(80 + r % 20)},
                                                                             {"protocol", "TCP"}}})}}})}}})}}}};
}

size_t total_entries(const cpp::policy::PolicyEngine& e) {
  size_t n = 0;
  for (int ep = 1; ep <= kEndpoints; ++ep)
    if (auto p = e.endpoint_policy(static_cast<uint16_t>(ep))) n += p->entries.size();
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  int repeats = (argc > 1 && std::string(argv[1]) == "full") ? 5 : 1;
  json out{{"benchmark", "policy-compute"},
           {"identities", kIdentities},
           {"rules", kRules},
           {"endpoints", kEndpoints},
           {"repeats", repeats}};
  json runs = json::array();
  for (int rep = 0; rep < repeats; ++rep) {
    size_t heap0 = heap_bytes();
    auto t0 = Clock::now();
    cpp::policy::PolicyEngine engine;
    for (int i = 0; i < kIdentities; ++i) engine.add_identity(256 + i, pod(i));
    for (int ep = 1; ep <= kEndpoints; ++ep) engine.upsert_endpoint(static_cast<uint16_t>(ep), 256 + ep, pod(ep));
    for (int r = 0; r < kRules; ++r) engine.apply(rule(r));
    auto initial = engine.take_changes();
    double full_ms = ms_since(t0);
    size_t heap_full = heap_bytes() - heap0;

    // One new pod identity (app2) that the rules of local endpoint 1 (app1) select.
    auto t1 = Clock::now();
    engine.add_identity(256 + kIdentities, pod(kIdentities + 2));
    auto delta = engine.take_changes();
    double incr_ms = ms_since(t1);

    // The same state recomputed from scratch (what a non-incremental engine would do).
    auto t2 = Clock::now();
    engine.set_mode(cpp::policy::EnforcementMode::Default, false);
    engine.take_changes();
    double recompute_ms = ms_since(t2);

    runs.push_back({{"initial_ms", full_ms},
                    {"initial_heap_bytes", heap_full},
                    {"initial_changes", initial.size()},
                    {"map_entries", total_entries(engine)},
                    {"new_pod_ms", incr_ms},
                    {"new_pod_changes", delta.size()},
                    {"full_recompute_ms", recompute_ms},
                    {"incremental_over_recompute", recompute_ms > 0 ? incr_ms / recompute_ms : 0}});
  }
  out["runs"] = runs;
  std::cout << out.dump(2) << std::endl;
  return 0;
}
