#include "hubble_cli/observe_request.h"

#include <gtest/gtest.h>
#include <google/protobuf/util/time_util.h>

using namespace cpp::hubble_cli;
using google::protobuf::util::TimeUtil;

namespace {

Clock::time_point kNow = Clock::time_point{} + std::chrono::seconds(1'800'000'000);

observer::GetFlowsRequest build(const std::vector<FilterArg>& f, Selector s = {}) { return build_request(f, s, kNow); }

std::string error_of(const std::vector<FilterArg>& f, Selector s = {}) {
  try {
    build(f, s);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(ObserveRequest, NoFlagsAsksForTheLast20) {
  auto r = build({});
  EXPECT_EQ(r.number(), 20u);
  EXPECT_FALSE(r.follow());
  EXPECT_EQ(r.whitelist_size(), 0);
  EXPECT_EQ(r.blacklist_size(), 0);
}

TEST(ObserveRequest, PodMatchesEitherSideAsTwoWhitelistFilters) {
  auto r = build({{"pod", "default/frontend"}});
  ASSERT_EQ(r.whitelist_size(), 2);
  ASSERT_EQ(r.whitelist(0).source_pod_size(), 1);
  EXPECT_EQ(r.whitelist(0).source_pod(0), "default/frontend");
  EXPECT_EQ(r.whitelist(0).destination_pod_size(), 0);
  ASSERT_EQ(r.whitelist(1).destination_pod_size(), 1);
  EXPECT_EQ(r.whitelist(1).destination_pod(0), "default/frontend");
  EXPECT_EQ(r.whitelist(1).source_pod_size(), 0);
}

TEST(ObserveRequest, FromAndToNarrowOneFilter) {
  auto r = build({{"from-pod", "a/x"}, {"to-pod", "b/y"}, {"verdict", "dropped"}});
  ASSERT_EQ(r.whitelist_size(), 1);
  EXPECT_EQ(r.whitelist(0).source_pod(0), "a/x");
  EXPECT_EQ(r.whitelist(0).destination_pod(0), "b/y");
  ASSERT_EQ(r.whitelist(0).verdict_size(), 1);
  EXPECT_EQ(r.whitelist(0).verdict(0), flow::DROPPED);
}

TEST(ObserveRequest, PodWithVerdictKeepsVerdictOnBothSides) {
  auto r = build({{"pod", "ns/p"}, {"verdict", "FORWARDED"}, {"port", "8080"}});
  ASSERT_EQ(r.whitelist_size(), 2);
  for (int i = 0; i < 2; ++i) EXPECT_EQ(r.whitelist(i).verdict(0), flow::FORWARDED);
  EXPECT_EQ(r.whitelist(0).source_port(0), "8080");
  EXPECT_EQ(r.whitelist(1).destination_port(0), "8080");
}

TEST(ObserveRequest, NamespaceBecomesPodPrefix) {
  auto r = build({{"from-namespace", "kube-system"}});
  ASSERT_EQ(r.whitelist_size(), 1);
  EXPECT_EQ(r.whitelist(0).source_pod(0), "kube-system/");
  auto both = build({{"namespace", "back"}});
  ASSERT_EQ(both.whitelist_size(), 2);
  EXPECT_EQ(both.whitelist(0).source_pod(0), "back/");
  EXPECT_EQ(both.whitelist(1).destination_pod(0), "back/");
}

TEST(ObserveRequest, LabelsIpsIdentities) {
  auto r = build({{"from-label", "k8s:app=fe"}, {"to-ip", "10.0.0.0/8"}, {"to-identity", "world"},
                  {"from-identity", "256"}});
  ASSERT_EQ(r.whitelist_size(), 1);
  const auto& f = r.whitelist(0);
  EXPECT_EQ(f.source_label(0), "k8s:app=fe");
  EXPECT_EQ(f.destination_ip(0), "10.0.0.0/8");
  EXPECT_EQ(f.destination_identity(0), 2u);
  EXPECT_EQ(f.source_identity(0), 256u);
  auto l = build({{"label", "app=x"}});
  ASSERT_EQ(l.whitelist_size(), 2);
  EXPECT_EQ(l.whitelist(0).source_label(0), "app=x");
  EXPECT_EQ(l.whitelist(1).destination_label(0), "app=x");
}

TEST(ObserveRequest, TypeMapsToMonitorEventTypes) {
  auto r = build({{"type", "drop"}, {"type", "trace:to-endpoint"}, {"type", "policy-verdict"}});
  ASSERT_EQ(r.whitelist_size(), 1);
  const auto& f = r.whitelist(0);
  ASSERT_EQ(f.event_type_size(), 3);
  EXPECT_EQ(f.event_type(0).type(), 1);
  EXPECT_FALSE(f.event_type(0).match_sub_type());
  EXPECT_EQ(f.event_type(1).type(), 4);
  EXPECT_TRUE(f.event_type(1).match_sub_type());
  EXPECT_EQ(f.event_type(1).sub_type(), 0);
  EXPECT_EQ(f.event_type(2).type(), 5);
}

TEST(ObserveRequest, TraceSockTypeWithAndWithoutTranslationPoint) {
  auto r = build({{"type", "trace-sock"}, {"type", "trace-sock:2"}});
  const auto& f = r.whitelist(0);
  ASSERT_EQ(f.event_type_size(), 2);
  EXPECT_EQ(f.event_type(0).type(), 7);
  EXPECT_FALSE(f.event_type(0).match_sub_type());
  EXPECT_EQ(f.event_type(1).type(), 7);
  EXPECT_TRUE(f.event_type(1).match_sub_type());
  EXPECT_EQ(f.event_type(1).sub_type(), 2);
}

TEST(ObserveRequest, ScalarFilters) {
  auto r = build({{"protocol", "TCP"},
                  {"traffic-direction", "ingress"},
                  {"node-name", "kind-worker"},
                  {"ip-version", "v6"},
                  {"tcp-flags", "syn,ack"}});
  ASSERT_EQ(r.whitelist_size(), 1);
  const auto& f = r.whitelist(0);
  EXPECT_EQ(f.protocol(0), "tcp");
  EXPECT_EQ(f.traffic_direction(0), flow::INGRESS);
  EXPECT_EQ(f.node_name(0), "kind-worker");
  EXPECT_EQ(f.ip_version(0), flow::IPv6);
  EXPECT_TRUE(f.tcp_flags(0).syn());
  EXPECT_TRUE(f.tcp_flags(0).ack());
  EXPECT_FALSE(f.tcp_flags(0).fin());
}

TEST(ObserveRequest, NotSendsOnlyTheNextFilterToTheBlacklist) {
  auto r = build({{"not", ""}, {"verdict", "FORWARDED"}, {"to-port", "53"}});
  ASSERT_EQ(r.blacklist_size(), 1);
  EXPECT_EQ(r.blacklist(0).verdict(0), flow::FORWARDED);
  EXPECT_EQ(r.blacklist(0).destination_port_size(), 0);
  ASSERT_EQ(r.whitelist_size(), 1);
  EXPECT_EQ(r.whitelist(0).destination_port(0), "53");
  EXPECT_EQ(r.whitelist(0).verdict_size(), 0);
}

TEST(ObserveRequest, NotWithPodBlacklistsBothSides) {
  auto r = build({{"not", ""}, {"pod", "kube-system/"}});
  EXPECT_EQ(r.whitelist_size(), 0);
  ASSERT_EQ(r.blacklist_size(), 2);
  EXPECT_EQ(r.blacklist(0).source_pod(0), "kube-system/");
  EXPECT_EQ(r.blacklist(1).destination_pod(0), "kube-system/");
}

TEST(ObserveRequest, BadValuesNameTheFlag) {
  EXPECT_NE(error_of({{"verdict", "MAYBE"}}).find("--verdict value 'MAYBE'"), std::string::npos);
  EXPECT_NE(error_of({{"port", "http"}}).find("--port value 'http'"), std::string::npos);
  EXPECT_NE(error_of({{"to-port", "70000"}}).find("--to-port"), std::string::npos);
  EXPECT_NE(error_of({{"ip", "10.0.0.300"}}).find("--ip"), std::string::npos);
  EXPECT_NE(error_of({{"from-ip", "10.0.0.0/33"}}).find("prefix"), std::string::npos);
  EXPECT_NE(error_of({{"identity", "nobody"}}).find("--identity"), std::string::npos);
  EXPECT_NE(error_of({{"protocol", "quic"}}).find("--protocol"), std::string::npos);
  EXPECT_NE(error_of({{"type", "l8"}}).find("--type value 'l8'"), std::string::npos);
  EXPECT_NE(error_of({{"type", "trace:to-moon"}}).find("sub-type"), std::string::npos);
  EXPECT_NE(error_of({{"traffic-direction", "up"}}).find("ingress or egress"), std::string::npos);
  EXPECT_NE(error_of({{"ip-version", "5"}}).find("--ip-version"), std::string::npos);
  EXPECT_NE(error_of({{"tcp-flags", "SYN,FOO"}}).find("FOO"), std::string::npos);
  EXPECT_NE(error_of({{"pod", ""}}).find("--pod"), std::string::npos);
}

TEST(ObserveRequest, ConflictingFlagsAreRejected) {
  EXPECT_EQ(error_of({{"pod", "a"}, {"from-pod", "b"}}), "filters --from-pod and --pod cannot be combined");
  EXPECT_NE(error_of({{"port", "1"}, {"to-port", "2"}}).find("cannot be combined"), std::string::npos);
  // The same flag twice is an OR, not a conflict.
  auto r = build({{"from-pod", "a"}, {"from-pod", "b"}});
  EXPECT_EQ(r.whitelist(0).source_pod_size(), 2);
}

TEST(ObserveRequest, NotMisuse) {
  EXPECT_NE(error_of({{"not", ""}, {"not", ""}, {"pod", "x"}}).find("consecutive"), std::string::npos);
  EXPECT_NE(error_of({{"pod", "x"}, {"not", ""}}).find("followed by a filter"), std::string::npos);
}

TEST(ObserveRequest, CountsAndFollow) {
  Selector s;
  s.last = 5;
  s.follow = true;
  auto r = build({}, s);
  EXPECT_EQ(r.number(), 5u);
  EXPECT_TRUE(r.follow());
  Selector f;
  f.follow = true;
  EXPECT_EQ(build({}, f).number(), 0u);  // follow alone: only new flows
  Selector first;
  first.first = 3;
  auto fr = build({}, first);
  EXPECT_TRUE(fr.first());
  EXPECT_EQ(fr.number(), 3u);
}

TEST(ObserveRequest, CountWithTimeRangeIsAnError) {
  Selector s;
  s.last = 5;
  s.since = "5m";
  EXPECT_NE(error_of({}, s).find("--last cannot be combined with --since/--until"), std::string::npos);
  Selector both;
  both.last = 1;
  both.first = 1;
  EXPECT_NE(error_of({}, both).find("cannot be combined"), std::string::npos);
  Selector ff;
  ff.first = 1;
  ff.follow = true;
  EXPECT_EQ(error_of({}, ff), "--first and --follow cannot be combined");
}

TEST(ObserveRequest, SinceRelativeAndUntilDefaultsToNow) {
  Selector s;
  s.since = "5m";
  auto r = build({}, s);
  EXPECT_EQ(r.number(), 0u);
  EXPECT_EQ(r.since().seconds(), 1'800'000'000 - 300);
  EXPECT_EQ(r.until().seconds(), 1'800'000'000);
  Selector f;
  f.since = "1h";
  f.follow = true;
  auto fr = build({}, f);
  EXPECT_EQ(fr.since().seconds(), 1'800'000'000 - 3600);
  EXPECT_FALSE(fr.has_until());
}

TEST(ObserveRequest, SinceAbsoluteAndBadOrder) {
  Selector s;
  s.since = "2026-11-26T22:00:00Z";
  s.until = "2026-11-26T23:00:00.5+01:00";
  auto r = build({}, s);
  EXPECT_EQ(TimeUtil::ToString(r.since()), "2026-11-26T22:00:00Z");
  EXPECT_EQ(TimeUtil::ToString(r.until()), "2026-11-26T22:00:00.500Z");
  Selector bad;
  bad.since = "2026-11-26T23:00:00Z";
  bad.until = "2026-11-26T22:00:00Z";
  EXPECT_EQ(error_of({}, bad), "--since is after --until");
  Selector junk;
  junk.since = "yesterday";
  EXPECT_NE(error_of({}, junk).find("invalid time 'yesterday'"), std::string::npos);
}
