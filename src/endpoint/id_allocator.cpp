#include "endpoint/id_allocator.h"

namespace cpp::endpoint {

std::optional<uint16_t> IdAllocator::allocate() {
  for (uint32_t id = kMin; id <= kMax; ++id) {
    if (!used_.count(static_cast<uint16_t>(id))) {
      used_.insert(static_cast<uint16_t>(id));
      return static_cast<uint16_t>(id);
    }
  }
  return std::nullopt;
}

bool IdAllocator::reserve(uint16_t id) {
  if (id < kMin || id > kMax) return false;
  return used_.insert(id).second;
}

}  // namespace cpp::endpoint
