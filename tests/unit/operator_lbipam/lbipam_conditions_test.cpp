#include <gtest/gtest.h>

#include "operator/lbipam_conditions.h"

using namespace cpp;
using json = nlohmann::json;

TEST(LbIpamConditions, TransitionTimeMovesOnlyWithTheStatus) {
  json c = op::with_condition(nullptr, {"t", "False", "no_pool", "none"}, 1, "2026-01-01T00:00:00Z");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0]["lastTransitionTime"], "2026-01-01T00:00:00Z");
  EXPECT_EQ(c[0]["observedGeneration"], 1);
  // Same status, new message: the time stays.
  json c2 = op::with_condition(c, {"t", "False", "out_of_ips", "full"}, 1, "2026-01-02T00:00:00Z");
  EXPECT_EQ(c2[0]["lastTransitionTime"], "2026-01-01T00:00:00Z");
  EXPECT_EQ(c2[0]["reason"], "out_of_ips");
  // New status: the time moves.
  json c3 = op::with_condition(c2, {"t", "True", "satisfied", ""}, 2, "2026-01-03T00:00:00Z");
  EXPECT_EQ(c3[0]["lastTransitionTime"], "2026-01-03T00:00:00Z");
  EXPECT_EQ(c3[0]["observedGeneration"], 2);
  // Writing the same condition again changes nothing (no write loops).
  EXPECT_EQ(op::with_condition(c3, {"t", "True", "satisfied", ""}, 2, "2026-01-04T00:00:00Z"), c3);
}

TEST(LbIpamConditions, OtherTypesAreKeptAndDuplicatesCollapse) {
  json c = json::array({{{"type", "other"}, {"status", "True"}},
                        {{"type", "t"}, {"status", "True"}, {"lastTransitionTime", "x"}},
                        {{"type", "t"}, {"status", "False"}}});
  json out = op::with_condition(c, {"t", "True", "r", "m"}, -1, "now");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]["type"], "other");
  EXPECT_EQ(out[1]["lastTransitionTime"], "x");
  EXPECT_FALSE(out[1].contains("observedGeneration"));
  EXPECT_EQ(op::without_condition(out, "t").size(), 1u);
  EXPECT_NE(op::find_condition(out, "other"), nullptr);
  EXPECT_EQ(op::find_condition(out, "missing"), nullptr);
}
