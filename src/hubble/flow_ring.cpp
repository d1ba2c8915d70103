#include "hubble/flow_ring.h"

#include <algorithm>

namespace cpp::hubble {

namespace {
constexpr auto kCancelPoll = std::chrono::milliseconds(100);
}

FlowRing::FlowRing(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)) {
  // Address space only: pages become resident as flows fill the slots, and
  // the vector never reallocates (and moves every flow) under the lock.
  slots_.reserve(capacity_);
}

void FlowRing::push(Flow f) {
  {
    std::lock_guard lk(mu_);
    if (slots_.size() < capacity_)
      slots_.push_back(std::move(f));
    else
      slots_[next_ % capacity_] = std::move(f);
    ++next_;
  }
  cv_.notify_all();
}

size_t FlowRing::size() const {
  std::lock_guard lk(mu_);
  return slots_.size();
}

uint64_t FlowRing::seen() const {
  std::lock_guard lk(mu_);
  return next_;
}

uint64_t FlowRing::next_seq() const { return seen(); }

uint64_t FlowRing::oldest_seq() const {
  std::lock_guard lk(mu_);
  return next_ - slots_.size();
}

std::vector<Flow> FlowRing::read(uint64_t from, uint64_t to, uint64_t* missed) const {
  std::vector<Flow> out;
  uint64_t lost = 0;
  {
    std::lock_guard lk(mu_);
    to = std::min(to, next_);
    uint64_t oldest = next_ - slots_.size();
    if (from < oldest) {
      lost = std::min(to, oldest) > from ? std::min(to, oldest) - from : 0;
      from = oldest;
    }
    if (from < to) {
      out.reserve(to - from);
      for (uint64_t s = from; s < to; ++s) out.push_back(slots_[s % capacity_]);
    }
  }
  if (missed) *missed = lost;
  return out;
}

bool FlowRing::wait_for(uint64_t seq, std::chrono::steady_clock::time_point deadline,
                        const std::function<bool()>& cancelled) const {
  std::unique_lock lk(mu_);
  while (next_ <= seq) {
    // Not under the lock: the predicate may well ask the ring itself.
    lk.unlock();
    bool stop = cancelled && cancelled();
    lk.lock();
    if (stop) return next_ > seq;
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    cv_.wait_until(lk, std::min(deadline, now + kCancelPoll));
  }
  return true;
}

}  // namespace cpp::hubble
