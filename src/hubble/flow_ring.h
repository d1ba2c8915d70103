#pragma once
// The bounded ring of a node's recent flows (`hubble-event-buffer-capacity`).
// One writer (the agent's event loop), any number of readers (observer
// streams). Readers address flows by a monotonically increasing sequence
// number, so a reader that falls behind by more than the capacity learns
// how many flows it missed instead of reading overwritten slots.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

#include "hubble/flow.h"

namespace cpp::hubble {

class FlowRing {
 public:
  // capacity: flows kept (at least 1). Slots are reserved up front (address
  // space) and become resident memory as flows fill them.
  explicit FlowRing(size_t capacity);

  void push(Flow f);

  size_t capacity() const { return capacity_; }
  size_t size() const;          // flows currently held
  uint64_t seen() const;        // flows ever pushed
  uint64_t next_seq() const;    // sequence number the next push gets (== seen())
  uint64_t oldest_seq() const;  // sequence number of the oldest held flow

  // Copies of held flows with sequence numbers in [from, to), oldest first.
  // Flows already overwritten are skipped; *missed (if given) is set to how
  // many of the requested ones were.
  std::vector<Flow> read(uint64_t from, uint64_t to, uint64_t* missed = nullptr) const;

  // Blocks until a flow with sequence >= seq exists, the deadline passes or
  // cancelled() returns true (checked at least every 100 ms, without the
  // ring's lock held; may be empty). Returns whether such a flow exists.
  bool wait_for(uint64_t seq, std::chrono::steady_clock::time_point deadline,
                const std::function<bool()>& cancelled) const;

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<Flow> slots_;
  uint64_t next_ = 0;
};

}  // namespace cpp::hubble
