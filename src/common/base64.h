#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace cpp {

// Standard base64 (RFC 4648 §4, with padding), as Kubernetes Secret data is
// encoded. nullopt for anything that is not exactly that.
std::optional<std::string> base64_decode(std::string_view in);

}  // namespace cpp
