#pragma once
// Network-namespace handles and a helper that runs code inside one.
//
// Rule for callers: the calling thread never changes namespace. Code that must
// run inside a namespace goes through run_in_netns(), which uses a fresh
// std::thread that setns(2)'s and then exits. A netlink socket (cpp::Netlink)
// created inside that thread keeps belonging to the namespace after the thread
// is gone, so it can then be used from any thread.
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>

namespace cpp {

class NetnsHandle {
 public:
  NetnsHandle() = default;  // invalid (fd -1)
  ~NetnsHandle();
  NetnsHandle(NetnsHandle&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  NetnsHandle& operator=(NetnsHandle&& o) noexcept;
  NetnsHandle(const NetnsHandle&) = delete;
  NetnsHandle& operator=(const NetnsHandle&) = delete;

  // "/run/netns/<name>" or "/proc/<pid>/ns/net". Throws std::runtime_error.
  static NetnsHandle open_path(const std::string& path);
  // open_path(netns_path_for_name(name)).
  static NetnsHandle open_name(const std::string& name);
  // The calling thread's namespace (/proc/thread-self/ns/net).
  static NetnsHandle current();

  int fd() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Namespace identity (inode of the nsfs file); equal ids = same namespace.
  uint64_t id() const;

 private:
  explicit NetnsHandle(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// "/run/netns/<name>" (the iproute2 convention). Throws on an empty name or
// one containing '/'.
std::string netns_path_for_name(const std::string& name);

namespace detail {
// setns(fd, CLONE_NEWNET) for the calling thread; throws std::runtime_error.
void enter_netns(int fd);
}  // namespace detail

// Runs f() on a new thread that first enters `ns`, waits for it, and returns
// its result by value (or rethrows its exception). The caller's thread is
// untouched. f is invoked by reference, so it may capture locals by reference.
template <class F>
auto run_in_netns(const NetnsHandle& ns, F&& f) -> std::remove_cvref_t<std::invoke_result_t<F&>> {
  using R = std::remove_cvref_t<std::invoke_result_t<F&>>;
  const int fd = ns.fd();
  std::exception_ptr error;
  if constexpr (std::is_void_v<R>) {
    std::thread t([&] {
      try {
        detail::enter_netns(fd);
        std::invoke(f);
      } catch (...) {
        error = std::current_exception();
      }
    });
    t.join();
    if (error) std::rethrow_exception(error);
  } else {
    std::optional<R> result;
    std::thread t([&] {
      try {
        detail::enter_netns(fd);
        result.emplace(std::invoke(f));
      } catch (...) {
        error = std::current_exception();
      }
    });
    t.join();
    if (error) std::rethrow_exception(error);
    return std::move(*result);
  }
}

}  // namespace cpp
