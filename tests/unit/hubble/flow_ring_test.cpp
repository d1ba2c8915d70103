#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "hubble/flow_ring.h"

namespace cpp::hubble {
namespace {

using namespace std::chrono_literals;

Flow numbered(int64_t n) {
  Flow f;
  f.time_ns = n;
  return f;
}

std::vector<int64_t> times(const std::vector<Flow>& fs) {
  std::vector<int64_t> out;
  for (const auto& f : fs) out.push_back(f.time_ns);
  return out;
}

std::chrono::steady_clock::time_point in(std::chrono::milliseconds d) { return std::chrono::steady_clock::now() + d; }

TEST(FlowRing, EmptyRing) {
  FlowRing r(4);
  EXPECT_EQ(r.capacity(), 4u);
  EXPECT_EQ(r.size(), 0u);
  EXPECT_EQ(r.seen(), 0u);
  EXPECT_EQ(r.next_seq(), 0u);
  EXPECT_EQ(r.oldest_seq(), 0u);
  uint64_t missed = 99;
  EXPECT_TRUE(r.read(0, 10, &missed).empty());
  EXPECT_EQ(missed, 0u);
}

TEST(FlowRing, ZeroCapacityHoldsOne) {
  FlowRing r(0);
  EXPECT_EQ(r.capacity(), 1u);
  r.push(numbered(1));
  r.push(numbered(2));
  EXPECT_EQ(times(r.read(0, 2)), std::vector<int64_t>{2});
}

TEST(FlowRing, ReadsInOrderBeforeWrapping) {
  FlowRing r(4);
  for (int i = 0; i < 3; ++i) r.push(numbered(i));
  EXPECT_EQ(r.size(), 3u);
  EXPECT_EQ(r.oldest_seq(), 0u);
  EXPECT_EQ(times(r.read(0, 3)), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(times(r.read(1, 2)), (std::vector<int64_t>{1}));
  // Beyond what exists is clamped.
  EXPECT_EQ(times(r.read(2, 100)), (std::vector<int64_t>{2}));
  EXPECT_TRUE(r.read(3, 100).empty());
  EXPECT_TRUE(r.read(2, 1).empty());
}

TEST(FlowRing, WraparoundKeepsTheNewest) {
  FlowRing r(4);
  for (int i = 0; i < 10; ++i) r.push(numbered(i));
  EXPECT_EQ(r.size(), 4u);
  EXPECT_EQ(r.seen(), 10u);
  EXPECT_EQ(r.next_seq(), 10u);
  EXPECT_EQ(r.oldest_seq(), 6u);
  uint64_t missed = 0;
  EXPECT_EQ(times(r.read(6, 10, &missed)), (std::vector<int64_t>{6, 7, 8, 9}));
  EXPECT_EQ(missed, 0u);
  EXPECT_EQ(times(r.read(8, 10)), (std::vector<int64_t>{8, 9}));
}

TEST(FlowRing, MissedCountsOverwrittenFlows) {
  FlowRing r(4);
  for (int i = 0; i < 10; ++i) r.push(numbered(i));
  uint64_t missed = 0;
  EXPECT_EQ(times(r.read(0, 10, &missed)), (std::vector<int64_t>{6, 7, 8, 9}));
  EXPECT_EQ(missed, 6u);
  // Only the requested range counts.
  EXPECT_EQ(times(r.read(3, 7, &missed)), (std::vector<int64_t>{6}));
  EXPECT_EQ(missed, 3u);
  EXPECT_TRUE(r.read(1, 5, &missed).empty());
  EXPECT_EQ(missed, 4u);
}

TEST(FlowRing, ReadReturnsCopies) {
  FlowRing r(2);
  Flow f = numbered(1);
  f.node_name = "a";
  r.push(f);
  auto got = r.read(0, 1);
  got[0].node_name = "changed";
  EXPECT_EQ(r.read(0, 1)[0].node_name, "a");
}

TEST(FlowRing, WaitForReturnsAtOnceWhenTheFlowExists) {
  FlowRing r(2);
  r.push(numbered(0));
  EXPECT_TRUE(r.wait_for(0, in(10s), [] { return false; }));
}

TEST(FlowRing, WaitForTimesOut) {
  FlowRing r(2);
  EXPECT_FALSE(r.wait_for(0, in(50ms), nullptr));
}

TEST(FlowRing, WaitForWakesOnPush) {
  FlowRing r(2);
  std::atomic<bool> got{false};
  std::thread waiter([&] { got = r.wait_for(0, in(30s), [] { return false; }); });
  r.push(numbered(0));
  waiter.join();
  EXPECT_TRUE(got);
}

TEST(FlowRing, WaitForStopsWhenCancelled) {
  FlowRing r(2);
  std::atomic<bool> cancel{false};
  std::atomic<bool> done{false};
  bool result = true;
  std::thread waiter([&] {
    // The predicate may use the ring itself without deadlocking.
    result = r.wait_for(5, in(60s), [&] { return cancel.load() && r.seen() < 5; });
    done = true;
  });
  cancel = true;
  waiter.join();  // would take 60 s without cancellation
  EXPECT_TRUE(done);
  EXPECT_FALSE(result);
}

TEST(FlowRing, ConcurrentWriterAndReadersSeeEveryFlowInOrderOrCountIt) {
  constexpr int kFlows = 200'000;
  FlowRing r(1024);
  std::atomic<bool> failed{false};
  auto reader = [&] {
    uint64_t next = 0, got = 0, lost = 0;
    while (next < kFlows) {
      if (!r.wait_for(next, in(60s), nullptr)) {
        failed = true;
        return;
      }
      uint64_t missed = 0;
      auto fs = r.read(next, next + 256, &missed);
      if (fs.empty() && missed == 0) {  // no progress although the flow exists
        failed = true;
        return;
      }
      int64_t expect = static_cast<int64_t>(next + missed);
      for (const auto& f : fs) {
        if (f.time_ns != expect++) failed = true;
      }
      got += fs.size();
      lost += missed;
      next += missed + fs.size();
    }
    if (got + lost != kFlows) failed = true;
  };
  std::thread r1(reader), r2(reader);
  for (int i = 0; i < kFlows; ++i) r.push(numbered(i));
  r1.join();
  r2.join();
  EXPECT_FALSE(failed);
  EXPECT_EQ(r.seen(), static_cast<uint64_t>(kFlows));
  EXPECT_EQ(r.oldest_seq(), static_cast<uint64_t>(kFlows - 1024));
}

}  // namespace
}  // namespace cpp::hubble
