#include <gtest/gtest.h>

#include <atomic>

#include "health/prober.h"

using namespace cpp;
using namespace cpp::health;
using namespace std::chrono_literals;

namespace {
IpAddr ip(const char* s) { return *IpAddr::parse(s); }

// 192.0.2.99 never answers; everything else answers after a fixed delay.
ProbeFunctions fake(std::atomic<int>& calls) {
  auto answer = [&calls](const IpAddr& a) {
    ++calls;
    if (a == ip("192.0.2.99")) return ProbeResult::failed("no echo reply within 10ms");
    return ProbeResult::ok(1234);
  };
  return {[answer](const IpAddr& a, std::chrono::milliseconds) { return answer(a); },
          [answer](const IpAddr& a, int port, std::chrono::milliseconds) {
            EXPECT_EQ(port, 4240);
            return answer(a);
          }};
}

std::vector<NodeTarget> two_nodes() {
  return {{"n1", true, {ip("192.0.2.1")}, {ip("10.233.64.5"), ip("fd00::5")}},
          {"n9", false, {ip("192.0.2.99")}, {}}};
}
}  // namespace

TEST(HealthProber, RoundProbesEveryAddressWithBothProbes) {
  std::atomic<int> calls{0};
  ProberOptions o;
  o.local_node = "n1";
  Prober p(two_nodes, o, fake(calls));
  auto r = p.run_round();
  EXPECT_EQ(calls.load(), 8);  // 4 addresses x (ICMP + HTTP)
  ASSERT_EQ(r.nodes.size(), 2u);
  EXPECT_TRUE(r.nodes[0].reachable());
  EXPECT_EQ(r.nodes[0].endpoint.size(), 2u);
  EXPECT_EQ(r.nodes[0].host[0].icmp.latency_ns, 1234);
  EXPECT_FALSE(r.nodes[1].reachable());
  EXPECT_EQ(r.nodes[1].host[0].icmp.error, "no echo reply within 10ms");
  EXPECT_GT(r.probe_time_ms, 0);
  EXPECT_EQ(r.local_node, "n1");
}

TEST(HealthProber, ProbeNowRunsAFreshRoundWithoutWaitingForTheInterval) {
  std::atomic<int> calls{0};
  std::atomic<int> rounds{0};
  ProberOptions o;
  o.interval = 1h;
  Prober p([&] { ++rounds; return two_nodes(); }, o, fake(calls));
  p.start();
  ASSERT_TRUE(p.probe_now(10s));
  int after_first = rounds.load();
  EXPECT_GE(after_first, 1);
  ASSERT_TRUE(p.probe_now(10s));
  EXPECT_GT(rounds.load(), after_first);  // a round that started after the request
  EXPECT_EQ(p.report().nodes.size(), 2u);
  p.stop();
  EXPECT_FALSE(p.probe_now(1s));  // stopped: nothing will answer
}

TEST(HealthProber, TargetSourceFailureGivesAnEmptyRound) {
  std::atomic<int> calls{0};
  Prober p([]() -> std::vector<NodeTarget> { throw std::runtime_error("store unreadable"); }, {}, fake(calls));
  auto r = p.run_round();
  EXPECT_TRUE(r.nodes.empty());
  EXPECT_EQ(calls.load(), 0);
}
