#pragma once

namespace cpp {

// The upstream Cilium release whose interfaces ciliumpp follows (the seed
// runs 1.15.3), marked as ciliumpp's; what every binary's --version prints.
inline constexpr const char* kVersion = "1.15.3-ciliumpp";

}  // namespace cpp
