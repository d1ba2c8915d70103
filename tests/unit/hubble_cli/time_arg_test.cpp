#include "hubble_cli/time_arg.h"

#include <gtest/gtest.h>

using namespace cpp::hubble_cli;
using namespace std::chrono;

TEST(TimeArg, Durations) {
  EXPECT_EQ(parse_duration("5m"), minutes(5));
  EXPECT_EQ(parse_duration("1h30m"), minutes(90));
  EXPECT_EQ(parse_duration("500ms"), milliseconds(500));
  EXPECT_EQ(parse_duration("1.5s"), milliseconds(1500));
  EXPECT_THROW(parse_duration("5"), std::invalid_argument);
  EXPECT_THROW(parse_duration("5d"), std::invalid_argument);
  EXPECT_THROW(parse_duration(""), std::invalid_argument);
}

TEST(TimeArg, Rfc3339) {
  auto now = Clock::now();
  auto t = parse_time_arg("1970-01-01T00:01:00Z", now);
  EXPECT_EQ(duration_cast<seconds>(t.time_since_epoch()).count(), 60);
  auto off = parse_time_arg("1970-01-01T01:01:00+01:00", now);
  EXPECT_EQ(duration_cast<seconds>(off.time_since_epoch()).count(), 60);
  auto frac = parse_time_arg("1970-01-01T00:00:01.25Z", now);
  EXPECT_EQ(duration_cast<milliseconds>(frac.time_since_epoch()).count(), 1250);
  EXPECT_THROW(parse_time_arg("2026-13-01T00:00:00Z", now), std::invalid_argument);
  EXPECT_THROW(parse_time_arg("2026-11-26T22:00:00", now), std::invalid_argument);  // zone required
}

TEST(TimeArg, RelativeIsBackFromNow) {
  auto now = Clock::time_point{} + hours(10);
  EXPECT_EQ(parse_time_arg("2h", now), Clock::time_point{} + hours(8));
}
