#include "common/mac.h"

#include <cstdio>

namespace cpp {

std::optional<MacAddr> parse_mac(const std::string& s) {
  MacAddr m{};
  unsigned v[6];
  char tail;
  if (s.size() != 17 ||
      std::sscanf(s.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                  &tail) != 6)
    return std::nullopt;
  for (int i = 0; i < 6; ++i) m[i] = static_cast<uint8_t>(v[i]);
  return m;
}

std::string mac_str(const uint8_t* mac) {
  char buf[18];
  std::snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
                mac[4], mac[5]);
  return buf;
}

}  // namespace cpp
