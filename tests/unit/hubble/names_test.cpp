#include <gtest/gtest.h>

#include <string>

#include <ciliumpp/abi.h>

#include "flow/flow.pb.h"
#include "hubble/flow.h"

namespace cpp::hubble {
namespace {

TEST(HubbleNames, DropReasonNamesFollowTheProto) {
  // Every name we return is the proto enum's name for the same number.
  for (int r = 1; r < 256; ++r) {
    std::string name = drop_reason_name(static_cast<uint8_t>(r));
    if (name == "DROP_REASON_UNKNOWN") continue;
    ASSERT_TRUE(flow::DropReason_IsValid(r)) << r;
    EXPECT_EQ(name, flow::DropReason_Name(static_cast<flow::DropReason>(r))) << r;
  }
  EXPECT_STREQ(drop_reason_name(CPP_DROP_POLICY), "POLICY_DENIED");
  EXPECT_STREQ(drop_reason_name(CPP_DROP_POLICY_DENY), "POLICY_DENY");
  EXPECT_STREQ(drop_reason_name(CPP_DROP_NO_SERVICE), "SERVICE_BACKEND_NOT_FOUND");
  EXPECT_STREQ(drop_reason_name(0), "DROP_REASON_UNKNOWN");
  EXPECT_STREQ(drop_reason_name(250), "DROP_REASON_UNKNOWN");
}

TEST(HubbleNames, EveryProtoDropReasonHasANameAndText) {
  const auto* d = flow::DropReason_descriptor();
  for (int i = 0; i < d->value_count(); ++i) {
    int n = d->value(i)->number();
    if (n == 0) continue;
    EXPECT_EQ(d->value(i)->name(), drop_reason_name(static_cast<uint8_t>(n)));
    EXPECT_NE(std::string(drop_reason_text(static_cast<uint8_t>(n))), std::to_string(n)) << n;
  }
}

TEST(HubbleNames, DropReasonTextsAsTheMonitorPrintsThem) {
  EXPECT_STREQ(drop_reason_text(CPP_DROP_INVALID_SIP), "Invalid source ip");
  EXPECT_STREQ(drop_reason_text(CPP_DROP_POLICY), "Policy denied");
  EXPECT_STREQ(drop_reason_text(CPP_DROP_INVALID), "Invalid packet");
  EXPECT_STREQ(drop_reason_text(CPP_DROP_CT_INVALID_HDR), "CT: Truncated or invalid header");
  EXPECT_STREQ(drop_reason_text(136), "CT: Missing TCP ACK flag");
  EXPECT_STREQ(drop_reason_text(139), "Unsupported L3 protocol");
  EXPECT_STREQ(drop_reason_text(CPP_DROP_NO_SERVICE), "Service backend not found");
  EXPECT_STREQ(drop_reason_text(CPP_DROP_NAT_NO_MAPPING), "No mapping for NAT masquerade");
  EXPECT_STREQ(drop_reason_text(CPP_DROP_NAT_UNSUPP), "Unsupported protocol for NAT masquerade");
  EXPECT_STREQ(drop_reason_text(CPP_DROP_POLICY_DENY), "Policy denied by denylist");
  EXPECT_STREQ(drop_reason_text(196), "TTL exceeded");
}

TEST(HubbleNames, UnknownDropReasonTextIsItsNumber) {
  EXPECT_STREQ(drop_reason_text(250), "250");
  EXPECT_STREQ(drop_reason_text(0), "0");
}

TEST(HubbleNames, VerdictNamesMatchTheProto) {
  for (int v = 0; v <= 7; ++v)
    EXPECT_EQ(verdict_name(static_cast<Verdict>(v)), flow::Verdict_Name(static_cast<flow::Verdict>(v))) << v;
}

TEST(HubbleNames, ObservationPointNamesMatchTheProto) {
  const int points[] = {CPP_OBS_TO_HOST,      CPP_OBS_TO_STACK,     CPP_OBS_TO_OVERLAY,  CPP_OBS_FROM_ENDPOINT,
                        CPP_OBS_FROM_HOST,    CPP_OBS_FROM_STACK,   CPP_OBS_FROM_OVERLAY, CPP_OBS_FROM_NETWORK,
                        CPP_OBS_TO_NETWORK,   CPP_OBS_TO_ENDPOINT,  1, 6};
  for (int p : points)
    EXPECT_EQ(observation_point_name(static_cast<uint8_t>(p)),
              flow::TraceObservationPoint_Name(static_cast<flow::TraceObservationPoint>(p)))
        << p;
  EXPECT_STREQ(observation_point_name(CPP_OBS_TO_ENDPOINT), "TO_ENDPOINT");
  EXPECT_STREQ(observation_point_name(0), "UNKNOWN_POINT");
  EXPECT_STREQ(observation_point_name(77), "UNKNOWN_POINT");
}

}  // namespace
}  // namespace cpp::hubble
