// The pure Lease decisions of leader election: who takes, renews or waits,
// and what a take or a resign writes into the Lease.
#include <gtest/gtest.h>

#include "operator/lease_record.h"

using namespace cpp::op;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

WallClock::time_point at(const std::string& t) { return *parse_micro_time(t); }

json lease(const std::string& holder, const std::string& renew, int duration = 15) {
  json l = empty_lease();
  l["spec"] = {{"holderIdentity", holder},
               {"leaseDurationSeconds", duration},
               {"acquireTime", renew},
               {"renewTime", renew},
               {"leaseTransitions", 2}};
  return l;
}

}  // namespace

TEST(LeaseRecord, MicroTimeRoundTrip) {
  auto t = at("2026-11-27T03:04:05.123456Z");
  EXPECT_EQ(format_micro_time(t), "2026-11-27T03:04:05.123456Z");
  EXPECT_EQ(format_micro_time(at("2026-11-27T03:04:05Z")), "2026-11-27T03:04:05.000000Z");
  EXPECT_EQ(at("2026-11-27T04:04:05.5+01:00"), at("2026-11-27T03:04:05.500000Z"));
  EXPECT_EQ(at("2026-11-27T01:34:05-01:30"), at("2026-11-27T03:04:05Z"));
  for (const char* bad : {"", "yesterday", "2026-11-27 03:04:05Z", "2026-11-27T03:04:05", "2026-13-01T00:00:00Z",
                          "2026-11-27T03:04:05.Z", "2026-11-27T03:04:05Zjunk"})
    EXPECT_FALSE(parse_micro_time(bad)) << bad;
}

TEST(LeaseRecord, AbsentVacantOrExpiredIsTaken) {
  auto now = at("2026-11-27T03:00:00Z");
  EXPECT_EQ(decide(std::nullopt, now, "a"), LeaseAction::Take);
  EXPECT_EQ(decide(empty_lease(), now, "a"), LeaseAction::Take);
  EXPECT_EQ(decide(lease("", "2026-11-27T02:59:59Z"), now, "a"), LeaseAction::Take);  // resigned
  // renewTime + 15 s lies before now: b is gone.
  EXPECT_EQ(decide(lease("b", "2026-11-27T02:59:44.999999Z"), now, "a"), LeaseAction::Take);
  // A renewTime nobody can read proves nothing: expired.
  json garbled = lease("b", "2026-11-27T02:59:59Z");
  garbled["spec"]["renewTime"] = "soon";
  EXPECT_EQ(decide(garbled, now, "a"), LeaseAction::Take);
}

TEST(LeaseRecord, LiveLeaseOfAnotherHolderWaits) {
  auto now = at("2026-11-27T03:00:00Z");
  EXPECT_EQ(decide(lease("b", "2026-11-27T02:59:50Z"), now, "a"), LeaseAction::Wait);
  EXPECT_EQ(decide(lease("b", "2026-11-27T02:59:45Z"), now, "a"), LeaseAction::Wait);  // exactly at expiry
  EXPECT_EQ(decide(lease("b", "2026-11-27T02:59:58Z", 1), now, "a"), LeaseAction::Take);
}

TEST(LeaseRecord, OwnLeaseIsRenewed) {
  auto now = at("2026-11-27T03:00:00Z");
  EXPECT_EQ(decide(lease("a", "2026-11-27T02:59:59Z"), now, "a"), LeaseAction::Renew);
  EXPECT_EQ(decide(lease("a", "2026-11-27T02:00:00Z"), now, "a"), LeaseAction::Renew);
}

TEST(LeaseRecord, HoldWritesUpstreamFields) {
  auto t1 = at("2026-11-27T03:00:00Z"), t2 = at("2026-11-27T03:00:05.25Z");
  json l = empty_lease();
  hold_lease(l, "a", t1, 15s);
  EXPECT_EQ(l["spec"]["holderIdentity"], "a");
  EXPECT_EQ(l["spec"]["leaseDurationSeconds"], 15);
  EXPECT_EQ(l["spec"]["acquireTime"], "2026-11-27T03:00:00.000000Z");
  EXPECT_EQ(l["spec"]["renewTime"], "2026-11-27T03:00:00.000000Z");
  EXPECT_EQ(l["spec"]["leaseTransitions"], 0);  // first holder ever
  hold_lease(l, "a", t2, 15s);                  // renewal
  EXPECT_EQ(l["spec"]["acquireTime"], "2026-11-27T03:00:00.000000Z");
  EXPECT_EQ(l["spec"]["renewTime"], "2026-11-27T03:00:05.250000Z");
  EXPECT_EQ(l["spec"]["leaseTransitions"], 0);
  hold_lease(l, "b", t2, 15s);  // takeover
  EXPECT_EQ(l["spec"]["holderIdentity"], "b");
  EXPECT_EQ(l["spec"]["acquireTime"], "2026-11-27T03:00:05.250000Z");
  EXPECT_EQ(l["spec"]["leaseTransitions"], 1);
  auto s = read_lease(l);
  EXPECT_EQ(s.holder, "b");
  EXPECT_EQ(s.duration_seconds, 15);
  EXPECT_EQ(s.renew_time, t2);
}

TEST(LeaseRecord, ReleaseOnlyByTheHolder) {
  json l = lease("a", "2026-11-27T03:00:00Z");
  EXPECT_FALSE(release_lease(l, "b"));
  EXPECT_EQ(l["spec"]["holderIdentity"], "a");
  EXPECT_TRUE(release_lease(l, "a"));
  EXPECT_EQ(l["spec"]["holderIdentity"], "");
  EXPECT_EQ(decide(l, at("2026-11-27T03:00:01Z"), "b"), LeaseAction::Take);
  json again = l;
  hold_lease(again, "b", at("2026-11-27T03:00:01Z"), 15s);
  EXPECT_EQ(again["spec"]["leaseTransitions"], 3);  // a vacated lease that was held counts the handover
}
