#include "datapath/pinned_map.h"

#include <bpf/bpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>
#include <vector>

namespace cpp::datapath {
namespace {
[[noreturn]] void fail(const std::string& what, const std::string& path, int err) {
  throw std::runtime_error(what + " " + path + ": " + std::strerror(err < 0 ? -err : err));
}
}  // namespace

PinnedMap::PinnedMap(const std::string& path, uint32_t key_size, uint32_t value_size)
    : path_(path), key_size_(key_size), value_size_(value_size) {
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
      key_size_(o.key_size_),
      value_size_(o.value_size_),
      fd_(std::exchange(o.fd_, -1)) {}

void PinnedMap::update(const void* key, const void* value) const {
  if (int err = bpf_map_update_elem(fd_, key, value, BPF_ANY)) fail("update", path_, err);
}

bool PinnedMap::remove(const void* key) const {
  int err = bpf_map_delete_elem(fd_, key);
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

void PinnedMap::for_each(const std::function<void(const void*, const void*)>& fn) const {
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
