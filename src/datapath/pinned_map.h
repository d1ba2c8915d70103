#pragma once
#include <cstdint>
#include <functional>
#include <string>

namespace cpp::datapath {

// An fd on a pinned map, checked against the key/value sizes the caller
// expects (a mismatch means the pinned map predates an ABI change).
class PinnedMap {
 public:
  PinnedMap(const std::string& path, uint32_t key_size, uint32_t value_size);
  ~PinnedMap();
  PinnedMap(PinnedMap&& o) noexcept;
  PinnedMap& operator=(PinnedMap&&) = delete;
  PinnedMap(const PinnedMap&) = delete;
  PinnedMap& operator=(const PinnedMap&) = delete;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

  // Raw operations; sizes are the ones given at construction.
  void update(const void* key, const void* value) const;  // throws
  bool remove(const void* key) const;                      // false if absent
  bool lookup(const void* key, void* value) const;         // false if absent
  // Calls fn(key, value) for every entry. Entries changed meanwhile may or
  // may not be seen (kernel iteration semantics). fn must not modify the
  // map (collect keys first, then remove).
  void for_each(const std::function<void(const void* key, const void* value)>& fn) const;

 private:
  // BPF_MAP_LOOKUP_BATCH iteration; false if the map type has no batch
  // support (nothing was visited then).
  bool for_each_batched(const std::function<void(const void*, const void*)>& fn) const;

  std::string path_;
  uint32_t key_size_;
  uint32_t value_size_;
  int fd_ = -1;
};

}  // namespace cpp::datapath
