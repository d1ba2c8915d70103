#pragma once
#include <chrono>
#include <string>

namespace cpp::config {

// Go time.Duration syntax, as upstream's keys use it: "0", "100ms", "1.5s",
// "1h30m". Throws std::invalid_argument quoting the value.
std::chrono::nanoseconds parse_go_duration(const std::string& s);

}  // namespace cpp::config
