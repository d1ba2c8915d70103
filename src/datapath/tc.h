#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace cpp::datapath {

enum class TcDir { Ingress, Egress };

// Our filter's fixed identity on every device: replacing it (handle 1,
// priority 1) is an atomic program swap, with no window without a program.
inline constexpr uint32_t kTcHandle = 1;
inline constexpr uint32_t kTcPriority = 1;

// "lxc12 (ifindex 7)": for error messages, in the calling thread's netns.
std::string describe_ifindex(int ifindex);

// Ensures the clsact qdisc exists on ifindex and installs prog_fd as our
// filter in direction dir, replacing the previous program. All tc calls act
// in the calling thread's network namespace. Throws std::runtime_error.
void tc_attach(int ifindex, TcDir dir, int prog_fd, const std::string& prog_name);

// Removes our filter; returns false if there was none. Throws on other errors.
bool tc_detach(int ifindex, TcDir dir);

// The id of the program in our filter slot, if any.
std::optional<uint32_t> tc_query(int ifindex, TcDir dir);

}  // namespace cpp::datapath
