#include "datapath/pinned_map.h"

#include <bpf/bpf.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>
#include <vector>

#ifndef ENOTSUPP
#define ENOTSUPP 524  // kernel-internal "operation not supported", seen by user space
#endif

namespace cpp::datapath {
namespace {
[[noreturn]] void fail(const std::string& what, const std::string& path, int err) {
  throw std::runtime_error(what + " " + path + ": " + std::strerror(err < 0 ? -err : err));
}

std::atomic<MapOpObserver*> g_map_op_observer{nullptr};

void observe(const std::string& name, MapOp op, bool ok) {
  if (auto* o = g_map_op_observer.load(std::memory_order_acquire)) o->on_map_op(name, op, ok);
}
}  // namespace

void set_map_op_observer(MapOpObserver* observer) { g_map_op_observer.store(observer, std::memory_order_release); }

PinnedMap::PinnedMap(const std::string& path, uint32_t key_size, uint32_t value_size)
    : path_(path), name_(path.substr(path.rfind('/') + 1)), key_size_(key_size), value_size_(value_size) {
  fd_ = bpf_obj_get(path.c_str());
  if (fd_ < 0) fail("open pinned map", path, errno);
  bpf_map_info info{};
  uint32_t len = sizeof(info);
  if (int err = bpf_obj_get_info_by_fd(fd_, &info, &len)) {
    ::close(fd_);
    fail("query map", path, err);
  }
  if (info.key_size != key_size || info.value_size != value_size) {
    ::close(fd_);
    throw std::runtime_error("pinned map " + path + " has key/value size " +
                             std::to_string(info.key_size) + "/" + std::to_string(info.value_size) +
                             ", expected " + std::to_string(key_size) + "/" +
                             std::to_string(value_size) + " (ABI mismatch)");
  }
}

PinnedMap::~PinnedMap() {
  if (fd_ >= 0) ::close(fd_);
}

PinnedMap::PinnedMap(PinnedMap&& o) noexcept
    : path_(std::move(o.path_)),
      name_(std::move(o.name_)),
      key_size_(o.key_size_),
      value_size_(o.value_size_),
      fd_(std::exchange(o.fd_, -1)) {}

void PinnedMap::update(const void* key, const void* value) const {
  int err = bpf_map_update_elem(fd_, key, value, BPF_ANY);
  observe(name_, MapOp::Update, err == 0);
  if (err) fail("update", path_, err);
}

bool PinnedMap::remove(const void* key) const {
  int err = bpf_map_delete_elem(fd_, key);
  // Deleting what is absent is not an error here (callers prune blindly).
  observe(name_, MapOp::Delete, err == 0 || err == -ENOENT);
  if (err == -ENOENT) return false;
  if (err) fail("delete from", path_, err);
  return true;
}

bool PinnedMap::lookup(const void* key, void* value) const {
  int err = bpf_map_lookup_elem(fd_, key, value);
  if (err == -ENOENT) return false;
  if (err) fail("lookup in", path_, err);
  return true;
}

bool PinnedMap::for_each_batched(const std::function<void(const void*, const void*)>& fn) const {
  // Hash maps hand out whole buckets per call; a bucket larger than the
  // batch is ENOSPC, so the batch grows until it fits.
  uint32_t batch = 1024;
  std::vector<uint8_t> keys, values;
  // The cursor is opaque (a bucket index for hash maps), at most a key.
  std::vector<uint8_t> in(std::max<uint32_t>(key_size_, 8)), out(in.size());
  bool first = true;
  for (;;) {
    keys.resize(size_t{batch} * key_size_);
    values.resize(size_t{batch} * value_size_);
    uint32_t count = batch;
    int err = bpf_map_lookup_batch(fd_, first ? nullptr : in.data(), out.data(), keys.data(),
                                   values.data(), &count, nullptr);
    if (err && err != -ENOENT) {
      if (first && (err == -EINVAL || err == -ENOTSUPP || err == -EOPNOTSUPP)) return false;
      if (err == -ENOSPC && count == 0 && batch < (1u << 20)) {
        batch *= 2;
        continue;
      }
      fail("iterate", path_, err);
    }
    for (uint32_t i = 0; i < count; ++i)
      fn(&keys[size_t{i} * key_size_], &values[size_t{i} * value_size_]);
    if (err == -ENOENT) return true;  // end of map (count may still be > 0)
    in.swap(out);
    first = false;
  }
}

void PinnedMap::for_each(const std::function<void(const void*, const void*)>& fn) const {
  // One syscall per batch where the map type supports it (hash, LRU),
  // two per entry otherwise (LPM trie).
  if (for_each_batched(fn)) return;
  std::vector<uint8_t> key(key_size_), next(key_size_), value(value_size_);
  const void* prev = nullptr;  // NULL asks for the first key
  for (;;) {
    int err = bpf_map_get_next_key(fd_, prev, next.data());
    if (err == -ENOENT) return;
    if (err) fail("iterate", path_, err);
    key.swap(next);
    prev = key.data();
    // An entry deleted between the two calls is simply skipped.
    if (lookup(key.data(), value.data())) fn(key.data(), value.data());
  }
}

}  // namespace cpp::datapath
