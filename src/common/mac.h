#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace cpp {

// An Ethernet address, in wire order.
using MacAddr = std::array<uint8_t, 6>;

// Accepts exactly "aa:bb:cc:dd:ee:ff" (case-insensitive).
std::optional<MacAddr> parse_mac(const std::string& s);
// Lower-case "aa:bb:cc:dd:ee:ff"; the pointer form reads six bytes (map values).
std::string mac_str(const uint8_t* mac);
inline std::string mac_str(const MacAddr& mac) { return mac_str(mac.data()); }

}  // namespace cpp
