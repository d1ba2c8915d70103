// Hubble flow core throughput and memory, pure C++ (no kernel): datapath
// events through hubble::EventParser alone and into a hubble::FlowRing, with
// an Enricher that does what the agent's does per event (hash lookups of
// both addresses, the policy cookie, the service frontend, the interface).
// Then the memory a stored flow costs: RSS and heap growth while a ring of
// capacity N fills with N flows, divided by N.
//
//   cpp-hubble-parser-bench [quick|full]
//
// Prints one JSON object.
#include <malloc.h>
#include <netinet/in.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <unistd.h>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "hubble/event_parser.h"
#include "hubble/flow_ring.h"

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;
using namespace cpp;
using namespace cpp::hubble;

constexpr int kEndpoints = 1000;
constexpr int kPolicies = 500;
constexpr int kServices = 200;
constexpr size_t kEvents = 1 << 16;  // distinct events cycled through

struct IpHash {
  size_t operator()(const IpAddr& a) const {
    uint64_t lo = 0, hi = 0;
    std::memcpy(&lo, a.bytes.data(), 8);
    std::memcpy(&hi, a.bytes.data() + 8, 8);
    return std::hash<uint64_t>()(lo * 0x9e3779b97f4a7c15ULL ^ hi ^ a.v6);
  }
};

IpAddr v4(uint32_t host) {
  IpAddr a;
  a.bytes[0] = 10, a.bytes[1] = static_cast<uint8_t>(host >> 16), a.bytes[2] = static_cast<uint8_t>(host >> 8),
  a.bytes[3] = static_cast<uint8_t>(host);
  return a;
}
IpAddr v6(uint32_t host) {
  IpAddr a;
  a.v6 = true;
  a.bytes[0] = 0xfd;
  a.bytes[14] = static_cast<uint8_t>(host >> 8), a.bytes[15] = static_cast<uint8_t>(host);
  return a;
}

// The agent's enricher in miniature: hash maps from the agent's state,
// shared immutable records handed out per event.
class HashEnricher : public Enricher {
 public:
  HashEnricher() {
    for (int i = 0; i < kEndpoints; ++i) {
      auto e = std::make_shared<EndpointInfo>();
      e->id = static_cast<uint32_t>(1000 + i);
      e->identity = static_cast<uint32_t>(256 + i % 300);
      e->namespace_ = "ns" + std::to_string(i % 10);
      e->pod_name = "app" + std::to_string(i % 300) + "-5d8f7c9b6-" + std::to_string(10000 + i);
      e->labels = {"k8s:app=app" + std::to_string(i % 300), "k8s:io.kubernetes.pod.namespace=" + e->namespace_,
                   "k8s:io.cilium.k8s.policy.cluster=default", "k8s:io.cilium.k8s.policy.serviceaccount=default"};
      by_ip_[v4(static_cast<uint32_t>(i + 1))] = e;
      by_ip_[v6(static_cast<uint32_t>(i + 1))] = e;
    }
    auto world = std::make_shared<EndpointInfo>();
    world->identity = 2;
    world->labels = {"reserved:world"};
    by_identity_[2] = world;
    for (int i = 0; i < kPolicies; ++i) {
      auto p = std::make_shared<PolicyRef>();
      p->name = "policy-" + std::to_string(i);
      p->namespace_ = "ns" + std::to_string(i % 10);
      p->kind = "CiliumNetworkPolicy";
      p->rule = "spec.ingress[0]";
      policies_[static_cast<uint32_t>(i + 1)] = p;
    }
    for (int i = 0; i < kServices; ++i)
      services_[svc_key(v4(0xff0000u + static_cast<uint32_t>(i)), 80, IPPROTO_TCP)] =
          ServiceRef{"svc-" + std::to_string(i), "ns" + std::to_string(i % 10)};
    for (int i = 0; i < kEndpoints; ++i) ifnames_[static_cast<uint32_t>(i + 10)] = "lxc" + std::to_string(100000 + i);
  }

  std::shared_ptr<const EndpointInfo> endpoint(const IpAddr& addr, uint16_t, uint32_t identity) const override {
    if (auto it = by_ip_.find(addr); it != by_ip_.end()) return it->second;
    if (auto it = by_identity_.find(identity); it != by_identity_.end()) return it->second;
    auto e = std::make_shared<EndpointInfo>();
    e->identity = identity;
    return e;
  }
  std::shared_ptr<const PolicyRef> policy(uint32_t cookie) const override {
    auto it = policies_.find(cookie);
    return it == policies_.end() ? nullptr : it->second;
  }
  std::optional<ServiceRef> service(const IpAddr& addr, uint16_t port, uint8_t proto) const override {
    auto it = services_.find(svc_key(addr, port, proto));
    if (it == services_.end()) return std::nullopt;
    return it->second;
  }
  std::string interface_name(uint32_t ifindex) const override {
    auto it = ifnames_.find(ifindex);
    return it == ifnames_.end() ? std::string() : it->second;
  }
  std::string node_name() const override { return node_; }

 private:
  static std::string svc_key(const IpAddr& a, uint16_t port, uint8_t proto) {
    std::string k(reinterpret_cast<const char*>(a.bytes.data()), 16);
    k.push_back(static_cast<char>(port >> 8));
    k.push_back(static_cast<char>(port));
    k.push_back(static_cast<char>(proto));
    return k;
  }

  std::unordered_map<IpAddr, std::shared_ptr<const EndpointInfo>, IpHash> by_ip_;
  std::unordered_map<uint32_t, std::shared_ptr<const EndpointInfo>> by_identity_;
  std::unordered_map<uint32_t, std::shared_ptr<const PolicyRef>> policies_;
  std::unordered_map<std::string, ServiceRef> services_;
  std::unordered_map<uint32_t, std::string> ifnames_;
  std::string node_ = "kind-worker";
};

// A mix like a busy node's with medium aggregation: mostly traces of new
// connections, policy verdicts, some drops; 1 in 8 IPv6, 1 in 4 through a
// service, 1 in 16 from outside the cluster.
std::vector<datapath::Event> make_events() {
  std::mt19937 rng(42);
  std::vector<datapath::Event> evs(kEvents);
  for (auto& e : evs) {
    uint32_t a = rng() % kEndpoints + 1, b = rng() % kEndpoints + 1;
    bool six = rng() % 8 == 0;
    e.saddr = six ? v6(a) : v4(a);
    e.daddr = six ? v6(b) : v4(b);
    if (rng() % 16 == 0) e.saddr = v4(0xfe0000u + a), e.src_identity = 2;
    else e.src_identity = 256 + (a - 1) % 300;
    e.dst_identity = 256 + (b - 1) % 300;
    e.protocol = rng() % 10 == 0 ? IPPROTO_UDP : IPPROTO_TCP;
    e.sport = static_cast<uint16_t>(30000 + rng() % 30000);
    e.dport = static_cast<uint16_t>(80 + rng() % 20);
    e.tcp_flags = e.protocol == IPPROTO_TCP ? 0x02 : 0;
    e.direction = rng() % 2 ? CPP_DIR_INGRESS : CPP_DIR_EGRESS;
    e.ep_id = static_cast<uint16_t>(1000 + (e.direction == CPP_DIR_EGRESS ? a : b));
    e.ifindex = 10 + (e.direction == CPP_DIR_EGRESS ? a : b);
    e.len = 60 + rng() % 1400;
    e.ts_ns = rng();
    uint32_t kind = rng() % 10;
    if (kind < 6) {
      e.type = CPP_EVENT_TRACE;
      e.obs_point = e.direction == CPP_DIR_INGRESS ? CPP_OBS_TO_ENDPOINT : CPP_OBS_TO_STACK;
      e.flags = rng() % 2 ? CPP_EVENT_F_REPLY : 0;
    } else if (kind < 9) {
      e.type = CPP_EVENT_POLICY_VERDICT;
      e.verdict = CPP_VERDICT_ALLOWED;
      e.cookie = rng() % kPolicies + 1;
    } else {
      e.type = CPP_EVENT_DROP;
      e.reason = rng() % 2 ? CPP_DROP_POLICY : CPP_DROP_POLICY_DENY;
      if (e.reason == CPP_DROP_POLICY_DENY) e.cookie = rng() % kPolicies + 1;
    }
    if (rng() % 4 == 0) {
      e.flags |= CPP_EVENT_F_XLATED;
      e.orig_daddr = v4(0xff0000u + rng() % kServices);
      e.orig_dport = 80;
    }
  }
  return evs;
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Events per second through fn(event) for about `secs` seconds.
template <typename Fn>
double rate(const std::vector<datapath::Event>& evs, double secs, Fn fn) {
  size_t n = 0;
  auto t0 = Clock::now();
  double el = 0;
  do {
    for (size_t i = 0; i < 4096; ++i) fn(evs[(n + i) % evs.size()]);
    n += 4096;
    el = seconds_since(t0);
  } while (el < secs);
  return static_cast<double>(n) / el;
}

json stats(std::vector<double> runs) {
  std::vector<double> s = runs;
  std::sort(s.begin(), s.end());
  return {{"median", s[s.size() / 2]}, {"min", s.front()}, {"max", s.back()}, {"runs", runs}};
}

long rss_bytes() {
  std::ifstream f("/proc/self/statm");
  long size = 0, resident = 0;
  f >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

size_t heap_bytes() {
  auto mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

}  // namespace

int main(int argc, char** argv) {
  bool full = argc > 1 && std::string(argv[1]) == "full";
  int runs = full ? 5 : 1;
  double secs = full ? 3.0 : 0.5;
  size_t mem_flows = full ? 1'000'000 : 200'000;

  HashEnricher enricher;
  EventParser parser(enricher, EventParser::current_boot_offset_ns());
  auto evs = make_events();

  uint64_t sink = 0;
  std::vector<double> parse_runs, push_runs;
  for (int r = 0; r < runs; ++r) {
    parse_runs.push_back(rate(evs, secs, [&](const datapath::Event& e) {
      Flow f = parser.parse(e);
      sink += f.src_port + f.ingress_allowed_by.size();
    }));
    FlowRing ring(65535);
    push_runs.push_back(rate(evs, secs, [&](const datapath::Event& e) { ring.push(parser.parse(e)); }));
    sink += ring.seen();
  }

  // Memory per stored flow: a ring of capacity N filled with N flows.
  malloc_trim(0);
  long rss0 = rss_bytes();
  size_t heap0 = heap_bytes();
  double fill_s = 0;
  json mem;
  {
    auto ring = std::make_unique<FlowRing>(mem_flows);
    auto t0 = Clock::now();
    for (size_t i = 0; i < mem_flows; ++i) ring->push(parser.parse(evs[i % evs.size()]));
    fill_s = seconds_since(t0);
    long rss1 = rss_bytes();
    size_t heap1 = heap_bytes();
    mem = {{"flows", mem_flows},
           {"capacity", ring->capacity()},
           {"sizeof_flow", sizeof(Flow)},
           {"rss_bytes_per_flow", static_cast<double>(rss1 - rss0) / static_cast<double>(mem_flows)},
           {"heap_bytes_per_flow", static_cast<double>(heap1 - heap0) / static_cast<double>(mem_flows)},
           {"fill_events_per_s", static_cast<double>(mem_flows) / fill_s}};
  }

  json out{{"benchmark", "hubble-parser"},
           {"mode", full ? "full" : "quick"},
           {"event_mix", "60% trace, 30% policy verdict, 10% drop; 1/8 IPv6, 1/4 via a service"},
           {"endpoints", kEndpoints},
           {"seconds_per_run", secs},
           {"parse_events_per_s", stats(parse_runs)},
           {"parse_push_events_per_s", stats(push_runs)},
           {"ring_capacity_for_push", 65535},
           {"memory", mem},
           {"checksum", sink}};
  std::cout << out.dump() << "\n";
  return 0;
}
