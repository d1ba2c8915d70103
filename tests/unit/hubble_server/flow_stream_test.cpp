#include "hubble_server/flow_stream.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <utility>

#include "test_flows.h"

namespace cpp::hubble {
namespace {

using testing::tcp_flow;
using namespace std::chrono_literals;

constexpr int64_t kSec = 1'000'000'000;

// What a stream sent: flow times (in seconds) and lost events.
struct Recorder {
  std::vector<int64_t> times;
  std::vector<std::pair<flow::LostEventSource, uint64_t>> lost;
  std::function<void()> on_flow;  // runs after each recorded flow

  FlowStream::Send sender() {
    return [this](const observer::GetFlowsResponse& r) {
      if (r.has_lost_events()) {
        lost.emplace_back(r.lost_events().source(), r.lost_events().num_events_lost());
      } else {
        EXPECT_EQ(r.node_name(), "node-a");
        EXPECT_EQ(r.time().seconds(), r.flow().time().seconds());
        times.push_back(r.flow().time().seconds());
        if (on_flow) on_flow();
      }
      return true;
    };
  }
};

FlowStream::Cancelled never() {
  return [] { return false; };
}

void fill(FlowRing& ring, int from_sec, int to_sec) {
  for (int s = from_sec; s <= to_sec; ++s) ring.push(tcp_flow(s * kSec, "10.0.0.1", "10.0.0.2", s % 2 ? 80 : 443));
}

FlowStreamEnv env() { return FlowStreamEnv{"node-a", {}, 20ms}; }

TEST(FlowStream, LastNIsTheNewestInOrder) {
  FlowRing ring(100);
  fill(ring, 1, 10);
  observer::GetFlowsRequest req;
  req.set_number(3);
  Recorder rec;
  EXPECT_EQ(FlowStream(req, ring, env()).run(rec.sender(), never()), 3u);
  EXPECT_EQ(rec.times, (std::vector<int64_t>{8, 9, 10}));
}

TEST(FlowStream, FirstNIsTheOldest) {
  FlowRing ring(5);
  fill(ring, 1, 8);  // 1..3 overwritten
  observer::GetFlowsRequest req;
  req.set_number(2);
  req.set_first(true);
  Recorder rec;
  FlowStream(req, ring, env()).run(rec.sender(), never());
  EXPECT_EQ(rec.times, (std::vector<int64_t>{4, 5}));
  EXPECT_TRUE(rec.lost.empty());
}

TEST(FlowStream, NoNumberMeansEverythingHeld) {
  FlowRing ring(5);
  fill(ring, 1, 8);
  Recorder rec;
  FlowStream(observer::GetFlowsRequest{}, ring, env()).run(rec.sender(), never());
  EXPECT_EQ(rec.times, (std::vector<int64_t>{4, 5, 6, 7, 8}));
}

TEST(FlowStream, SinceUntilBoundTheTimes) {
  FlowRing ring(100);
  fill(ring, 1, 10);
  observer::GetFlowsRequest req;
  req.mutable_since()->set_seconds(4);
  req.mutable_until()->set_seconds(6);
  Recorder rec;
  FlowStream(req, ring, env()).run(rec.sender(), never());
  EXPECT_EQ(rec.times, (std::vector<int64_t>{4, 5, 6}));
}

TEST(FlowStream, LastNCountsOnlyMatchingFlows) {
  FlowRing ring(100);
  fill(ring, 1, 10);  // odd seconds → port 80
  observer::GetFlowsRequest req;
  req.set_number(2);
  req.add_whitelist()->add_destination_port("80");
  Recorder rec;
  FlowStream(req, ring, env()).run(rec.sender(), never());
  EXPECT_EQ(rec.times, (std::vector<int64_t>{7, 9}));
}

TEST(FlowStream, BlacklistRemovesMatches) {
  FlowRing ring(100);
  fill(ring, 1, 6);
  observer::GetFlowsRequest req;
  req.add_blacklist()->add_destination_port("80");
  Recorder rec;
  FlowStream(req, ring, env()).run(rec.sender(), never());
  EXPECT_EQ(rec.times, (std::vector<int64_t>{2, 4, 6}));
}

TEST(FlowStream, ContradictoryRequestsAreRejected) {
  FlowRing ring(10);
  observer::GetFlowsRequest req;
  req.set_number(5);
  req.mutable_since()->set_seconds(1);
  EXPECT_THROW(FlowStream(req, ring, env()), RequestError);

  observer::GetFlowsRequest ff;
  ff.set_first(true);
  ff.set_follow(true);
  try {
    FlowStream(ff, ring, env());
    FAIL() << "first+follow accepted";
  } catch (const RequestError& e) {
    EXPECT_STREQ(e.what(), "first cannot be specified with follow");
  }

  observer::GetFlowsRequest bad_ts;
  bad_ts.mutable_until()->set_nanos(-3);
  EXPECT_THROW(FlowStream(bad_ts, ring, env()), RequestError);

  observer::GetFlowsRequest backwards;
  backwards.mutable_since()->set_seconds(10);
  backwards.mutable_until()->set_seconds(5);
  EXPECT_THROW(FlowStream(backwards, ring, env()), RequestError);
}

TEST(FlowStream, BadFilterNamesTheField) {
  FlowRing ring(10);
  observer::GetFlowsRequest req;
  req.add_whitelist()->add_source_ip("10.0.0.300");
  try {
    FlowStream(req, ring, env());
    FAIL() << "bad filter accepted";
  } catch (const FilterError& e) {
    EXPECT_NE(std::string(e.what()).find("source_ip"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("10.0.0.300"), std::string::npos) << e.what();
  }
}

TEST(FlowStream, FollowWithoutNumberStartsAtTheEnd) {
  FlowRing ring(100);
  fill(ring, 1, 5);
  observer::GetFlowsRequest req;
  req.set_follow(true);
  Recorder rec;
  std::atomic<bool> done{false};
  rec.on_flow = [&] { done = rec.times.size() >= 2; };
  // The stream asks cancelled() only after it fixed its starting point, so
  // flows pushed from there on are new to it.
  bool pushed = false;
  FlowStream(req, ring, env()).run(rec.sender(), [&] {
    if (!std::exchange(pushed, true)) fill(ring, 20, 21);
    return done.load();
  });
  EXPECT_EQ(rec.times, (std::vector<int64_t>{20, 21}));
}

TEST(FlowStream, FollowAfterLastNAppliesFilters) {
  FlowRing ring(100);
  fill(ring, 1, 5);
  observer::GetFlowsRequest req;
  req.set_follow(true);
  req.set_number(1);
  req.add_whitelist()->add_destination_port("80");
  Recorder rec;
  std::atomic<bool> done{false};
  rec.on_flow = [&] { done = rec.times.size() >= 3; };
  bool pushed = false;
  FlowStream(req, ring, env()).run(rec.sender(), [&] {
    if (!std::exchange(pushed, true)) fill(ring, 6, 9);
    return done.load();
  });
  EXPECT_EQ(rec.times, (std::vector<int64_t>{5, 7, 9}));
}

TEST(FlowStream, FollowerOvertakenByTheWriterIsToldHowManyItMissed) {
  FlowRing ring(4);
  fill(ring, 1, 1);
  observer::GetFlowsRequest req;
  req.set_follow(true);
  req.set_number(1);
  Recorder rec;
  std::atomic<bool> done{false};
  // While the client is busy with flow 1, the writer pushes 10 more into a
  // ring of 4: seconds 2..7 are gone before the follower reads.
  rec.on_flow = [&] {
    if (rec.times.size() == 1) fill(ring, 2, 11);
    done = rec.times.size() >= 5;
  };
  FlowStream(req, ring, env()).run(rec.sender(), [&] { return done.load(); });
  EXPECT_EQ(rec.times, (std::vector<int64_t>{1, 8, 9, 10, 11}));
  ASSERT_EQ(rec.lost.size(), 1u);
  EXPECT_EQ(rec.lost[0].first, flow::HUBBLE_RING_BUFFER);
  EXPECT_EQ(rec.lost[0].second, 6u);
}

TEST(FlowStream, FollowerReportsDatapathLossDeltas) {
  FlowRing ring(10);
  std::atomic<uint64_t> lost{5};  // lost before the stream: not this stream's news
  FlowStreamEnv e = env();
  e.ring_buffer_lost = [&] { return lost.load(); };
  observer::GetFlowsRequest req;
  req.set_follow(true);
  Recorder rec;
  std::atomic<bool> done{false};
  FlowStream::Send send = [&, inner = rec.sender()](const observer::GetFlowsResponse& r) {
    inner(r);
    done = !rec.lost.empty();
    return true;
  };
  const auto t0 = std::chrono::steady_clock::now();
  FlowStream(req, ring, e).run(send, [&] {
    lost = 12;  // after the stream took its baseline
    return done.load() || std::chrono::steady_clock::now() - t0 > 10s;
  });
  ASSERT_EQ(rec.lost.size(), 1u);
  EXPECT_EQ(rec.lost[0].first, flow::PERF_EVENT_RING_BUFFER);
  EXPECT_EQ(rec.lost[0].second, 7u);
}

TEST(FlowStream, FollowEndsWhenUntilPasses) {
  FlowRing ring(10);
  observer::GetFlowsRequest req;
  req.set_follow(true);
  const auto until = std::chrono::system_clock::now() + 200ms;
  const int64_t until_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(until.time_since_epoch()).count();
  req.mutable_until()->set_seconds(until_ns / kSec);
  req.mutable_until()->set_nanos(until_ns % kSec);
  Recorder rec;
  const auto t0 = std::chrono::steady_clock::now();
  FlowStream(req, ring, env()).run(rec.sender(), [&] { return std::chrono::steady_clock::now() - t0 > 10s; });
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

TEST(FlowStream, ClientGoneEndsTheStream) {
  FlowRing ring(100);
  fill(ring, 1, 10);
  observer::GetFlowsRequest req;
  int calls = 0;
  const uint64_t sent =
      FlowStream(req, ring, env()).run([&](const observer::GetFlowsResponse&) { return ++calls < 3; }, never());
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(sent, 2u);
}

}  // namespace
}  // namespace cpp::hubble
