#pragma once
// A named network namespace (/run/netns/<name>) made the way `ip netns add`
// makes one, so iproute2 and the lab see it like any other.
#include <string>

namespace cpp::health {

// Creates the namespace unless a namespace of that name already exists.
// Returns true when it created one. Throws std::runtime_error naming the step.
bool ensure_named_netns(const std::string& name);

// `ip netns del`: unmounts and removes /run/netns/<name>. False when there
// was no such namespace. Throws std::runtime_error naming the step.
bool remove_named_netns(const std::string& name);

// Whether the calling thread runs in the initial network namespace (that of
// PID 1). False when that cannot be read.
bool in_initial_netns();

}  // namespace cpp::health
