#pragma once
// --since / --until values: an RFC 3339 timestamp ("2026-11-26T22:01:02Z",
// fractions and offsets allowed) or a duration back from now ("5m", "1h30m",
// "90s", "500ms"), as upstream `hubble observe` accepts them.
#include <chrono>
#include <string>

namespace cpp::hubble_cli {

using Clock = std::chrono::system_clock;

// Throws std::invalid_argument naming the value.
Clock::time_point parse_time_arg(const std::string& value, Clock::time_point now);

// "5m" → 5 minutes; Go duration syntax (ns us ms s m h). Throws std::invalid_argument.
std::chrono::nanoseconds parse_duration(const std::string& value);

}  // namespace cpp::hubble_cli
