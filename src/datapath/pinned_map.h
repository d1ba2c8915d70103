#pragma once
#include <cstdint>
#include <functional>
#include <string>

namespace cpp::datapath {

enum class MapOp : uint8_t { Update, Delete };

// Told about every update and delete made through a PinnedMap (the agent's
// cilium_bpf_map_ops_total). Runs on the writer's thread: must be cheap,
// thread-safe and must not throw.
class MapOpObserver {
 public:
  virtual ~MapOpObserver() = default;
  virtual void on_map_op(const std::string& map_name, MapOp op, bool ok) noexcept = 0;
};
// Process-wide; nullptr removes it. An observer must outlive the map
// operations that may still be running when it is removed.
void set_map_op_observer(MapOpObserver* observer);

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
  std::string name_;  // the pin's file name, the map_name label of map operations
  uint32_t key_size_;
  uint32_t value_size_;
  int fd_ = -1;
};

}  // namespace cpp::datapath
