#pragma once
// One GetFlows call over the FlowRing, without gRPC: the request's
// number/first/follow/since/until/whitelist/blacklist semantics, and
// LostEvent messages where flows went missing. The observer server runs
// one per call on the call's thread; tests drive it directly.
//
// Order, as upstream's observer: history first (the last `number` matching
// flows, or the first `number` with `first`, or everything in [since, until]
// that the ring still holds), then, with `follow`, every new matching flow
// until the client goes away, the server stops or a flow is past `until`.
// follow without number and since starts at the ring's end (no history).
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

#include "hubble/flow_filter.h"
#include "hubble/flow_ring.h"
#include "observer/observer.pb.h"

namespace cpp::hubble {

// A request that cannot be served as asked (INVALID_ARGUMENT); what() says why.
class RequestError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

struct FlowStreamEnv {
  std::string node_name;  // on LostEvent responses
  // Events the datapath could not deliver (cpp_ev_lost), cumulative; may be
  // empty. A follower reports its increase as PERF_EVENT_RING_BUFFER.
  std::function<uint64_t()> ring_buffer_lost;
  // How often a follower with nothing to send checks ring_buffer_lost.
  std::chrono::milliseconds lost_poll{500};
};

class FlowStream {
 public:
  // false: the client is gone; the stream ends.
  using Send = std::function<bool(const observer::GetFlowsResponse&)>;
  // true: stop now (client cancelled or server stopping).
  using Cancelled = std::function<bool()>;

  // Throws RequestError for contradictory options and FilterError for
  // filters that do not compile; nothing has been sent then.
  FlowStream(const observer::GetFlowsRequest& req, const FlowRing& ring, FlowStreamEnv env);

  // Sends responses until done; returns how many flows it sent.
  uint64_t run(const Send& send, const Cancelled& cancelled);

 private:
  enum class Step { Sent, Skipped, PastUntil, ClientGone };

  // History phase; false when the stream is over (client gone, past until,
  // first-N complete).
  bool send_history(uint64_t end, const Send& send, const Cancelled& cancelled);
  bool send_last_n(uint64_t end, const Send& send, const Cancelled& cancelled);
  void follow(uint64_t from, const Send& send, const Cancelled& cancelled);
  Step offer(const Flow& f, const Send& send);
  // Flows from next (advanced past what was read) up to a chunk below end;
  // *missed: how many of them the ring had already overwritten.
  std::vector<Flow> read_chunk(uint64_t& next, uint64_t end, uint64_t* missed) const;
  bool send_lost(flow::LostEventSource source, uint64_t n, const Send& send);

  const FlowRing& ring_;
  FlowStreamEnv env_;
  FlowFilterSet filters_;
  uint64_t number_;
  bool first_, follow_;
  std::optional<int64_t> since_ns_, until_ns_;
  uint64_t sent_ = 0;
};

}  // namespace cpp::hubble
