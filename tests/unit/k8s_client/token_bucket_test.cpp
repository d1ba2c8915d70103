#include <gtest/gtest.h>

#include "k8s/client/token_bucket.h"

using namespace cpp::k8s;
using namespace std::chrono_literals;

TEST(TokenBucket, BurstThenQps) {
  TokenBucket b(10, 3);  // 3 at once, then one per 100 ms
  auto t0 = TokenBucket::Clock::time_point{} + 1h;
  EXPECT_EQ(b.reserve(t0), 0ns);
  EXPECT_EQ(b.reserve(t0), 0ns);
  EXPECT_EQ(b.reserve(t0), 0ns);
  auto wait4 = b.reserve(t0);
  EXPECT_NEAR(std::chrono::duration<double>(wait4).count(), 0.1, 1e-6);
  auto wait5 = b.reserve(t0);  // queued behind the fourth
  EXPECT_NEAR(std::chrono::duration<double>(wait5).count(), 0.2, 1e-6);
  // After a quiet second the bucket is full again, never fuller than burst.
  auto t1 = t0 + 10s;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(b.reserve(t1), 0ns);
  EXPECT_GT(b.reserve(t1), 0ns);
}

TEST(TokenBucket, ZeroQpsIsUnlimited) {
  TokenBucket b(0, 1);
  auto t = TokenBucket::Clock::now();
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(b.reserve(t), 0ns);
}
