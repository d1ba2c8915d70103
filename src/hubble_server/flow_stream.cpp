#include "hubble_server/flow_stream.h"

#include <algorithm>
#include <chrono>

#include <google/protobuf/timestamp.pb.h>

#include "hubble_server/proto_convert.h"

namespace cpp::hubble {

namespace {

// Flows copied out of the ring per lock hold: bounds both the copy and the
// time the writer may wait for the ring's mutex.
constexpr uint64_t kChunk = 1024;

int64_t wall_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::optional<int64_t> checked_time(const observer::GetFlowsRequest& req, bool since) {
  if (since ? !req.has_since() : !req.has_until()) return std::nullopt;
  const auto& ts = since ? req.since() : req.until();
  const char* name = since ? "since" : "until";
  // google.protobuf.Timestamp's valid range: 0001-01-01 .. 9999-12-31.
  if (ts.seconds() < -62135596800LL || ts.seconds() > 253402300799LL)
    throw RequestError(std::string(name) + ": seconds " + std::to_string(ts.seconds()) + " out of range");
  if (ts.nanos() < 0 || ts.nanos() > 999'999'999)
    throw RequestError(std::string(name) + ": nanos " + std::to_string(ts.nanos()) + " out of range");
  // Beyond int64 nanoseconds (year 2262) is "forever" for our flows.
  constexpr int64_t kMaxSecs = INT64_MAX / 1'000'000'000 - 1;
  if (ts.seconds() > kMaxSecs) return INT64_MAX;
  if (ts.seconds() < -kMaxSecs) return INT64_MIN;
  return from_timestamp(ts);
}

}  // namespace

FlowStream::FlowStream(const observer::GetFlowsRequest& req, const FlowRing& ring, FlowStreamEnv env)
    : ring_(ring),
      env_(std::move(env)),
      number_(req.number()),
      first_(req.first()),
      follow_(req.follow()) {
  if (first_ && follow_) throw RequestError("first cannot be specified with follow");
  since_ns_ = checked_time(req, true);
  until_ns_ = checked_time(req, false);
  if (number_ != 0 && (since_ns_ || until_ns_))
    throw RequestError("number cannot be combined with since/until");
  if (since_ns_ && until_ns_ && *since_ns_ > *until_ns_) throw RequestError("since is after until");
  filters_ = FlowFilterSet::compile(req.whitelist(), req.blacklist());
}

uint64_t FlowStream::run(const Send& send, const Cancelled& cancelled) {
  const uint64_t end = ring_.next_seq();
  const bool history = !follow_ || number_ != 0 || since_ns_;
  if (history && !send_history(end, send, cancelled)) return sent_;
  if (follow_) follow(end, send, cancelled);
  return sent_;
}

FlowStream::Step FlowStream::offer(const Flow& f, const Send& send) {
  if (until_ns_ && f.time_ns > *until_ns_) return Step::PastUntil;
  if (since_ns_ && f.time_ns < *since_ns_) return Step::Skipped;
  if (!filters_.matches(f)) return Step::Skipped;
  observer::GetFlowsResponse resp;
  *resp.mutable_flow() = to_proto(f);
  resp.set_node_name(f.node_name);
  *resp.mutable_time() = resp.flow().time();
  if (!send(resp)) return Step::ClientGone;
  ++sent_;
  return Step::Sent;
}

bool FlowStream::send_lost(flow::LostEventSource source, uint64_t n, const Send& send) {
  observer::GetFlowsResponse resp;
  resp.mutable_lost_events()->set_source(source);
  resp.mutable_lost_events()->set_num_events_lost(n);
  resp.set_node_name(env_.node_name);
  to_timestamp(wall_now_ns(), resp.mutable_time());
  return send(resp);
}

std::vector<Flow> FlowStream::read_chunk(uint64_t& next, uint64_t end, uint64_t* missed) const {
  // A reader behind the ring's oldest flow skips to it in one step: one
  // LostEvent for the whole gap rather than one per chunk.
  const uint64_t oldest = ring_.oldest_seq();
  *missed = 0;
  if (next < oldest) {
    *missed = std::min(oldest, end) - next;
    next = std::min(oldest, end);
  }
  const uint64_t to = std::min(end, next + kChunk);
  uint64_t more = 0;
  std::vector<Flow> batch = ring_.read(next, to, &more);
  *missed += more;
  next = to;
  return batch;
}

bool FlowStream::send_history(uint64_t end, const Send& send, const Cancelled& cancelled) {
  if (number_ != 0 && !first_) return send_last_n(end, send, cancelled);
  for (uint64_t from = ring_.oldest_seq(); from < end;) {
    if (cancelled()) return false;
    uint64_t missed = 0;
    const std::vector<Flow> batch = read_chunk(from, end, &missed);
    if (missed != 0 && !send_lost(flow::HUBBLE_RING_BUFFER, missed, send)) return false;
    for (const Flow& f : batch) {
      switch (offer(f, send)) {
        case Step::Sent:
          if (number_ != 0 && sent_ >= number_) return false;
          break;
        case Step::Skipped: break;
        case Step::PastUntil:
        case Step::ClientGone: return false;
      }
    }
  }
  return true;
}

bool FlowStream::send_last_n(uint64_t end, const Send& send, const Cancelled& cancelled) {
  // Walk back from the end until number_ flows matched; the ring may move
  // on meanwhile, overwritten flows are simply older than what we keep.
  std::vector<Flow> picked;
  for (uint64_t hi = end; hi > ring_.oldest_seq() && picked.size() < number_;) {
    if (cancelled()) return false;
    const uint64_t lo = std::max(ring_.oldest_seq(), hi > kChunk ? hi - kChunk : 0);
    std::vector<Flow> batch = ring_.read(lo, hi);
    for (auto it = batch.rbegin(); it != batch.rend() && picked.size() < number_; ++it)
      if (filters_.matches(*it)) picked.push_back(std::move(*it));
    hi = lo;
  }
  for (auto it = picked.rbegin(); it != picked.rend(); ++it)
    if (offer(*it, send) == Step::ClientGone) return false;
  return true;
}

void FlowStream::follow(uint64_t next, const Send& send, const Cancelled& cancelled) {
  uint64_t lost_seen = env_.ring_buffer_lost ? env_.ring_buffer_lost() : 0;
  while (!cancelled()) {
    if (env_.ring_buffer_lost) {
      const uint64_t now_lost = env_.ring_buffer_lost();
      if (now_lost > lost_seen && !send_lost(flow::PERF_EVENT_RING_BUFFER, now_lost - lost_seen, send)) return;
      lost_seen = std::max(lost_seen, now_lost);
    }
    auto deadline = std::chrono::steady_clock::now() + env_.lost_poll;
    if (until_ns_) {
      const int64_t left = *until_ns_ - wall_now_ns();
      if (left < 0) return;  // no flow can still be inside [since, until]
      deadline = std::min(deadline, std::chrono::steady_clock::now() + std::chrono::nanoseconds(left));
    }
    if (!ring_.wait_for(next, deadline, cancelled)) continue;
    uint64_t missed = 0;
    const std::vector<Flow> batch = read_chunk(next, ring_.next_seq(), &missed);
    if (missed != 0 && !send_lost(flow::HUBBLE_RING_BUFFER, missed, send)) return;
    for (const Flow& f : batch) {
      const Step s = offer(f, send);
      if (s == Step::PastUntil || s == Step::ClientGone) return;
    }
  }
}

}  // namespace cpp::hubble
