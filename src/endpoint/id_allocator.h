#pragma once
#include <cstdint>
#include <optional>
#include <set>

namespace cpp::endpoint {

// Endpoint ids 1..4095, as upstream: they fit the datapath's 16-bit lxc_id
// and stay small enough to read in `cilium-dbg endpoint list`.
class IdAllocator {
 public:
  static constexpr uint16_t kMin = 1;
  static constexpr uint16_t kMax = 4095;
  std::optional<uint16_t> allocate();
  bool reserve(uint16_t id);  // restoring a recorded id
  void release(uint16_t id) { used_.erase(id); }
  size_t in_use() const { return used_.size(); }

 private:
  std::set<uint16_t> used_;
};

}  // namespace cpp::endpoint
