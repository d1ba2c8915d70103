#pragma once
#include <optional>
#include <string>

namespace cpp::config {

// The kind of value a configuration key takes; decides how it is validated.
enum class ValueKind { String, Bool, Uint, Float, Duration, Cidr4, Cidr6, CidrAny, ListenAddr, Enum };

struct KeyRule {
  const char* key;
  ValueKind kind;
  const char* choices;  // for Enum: '|'-separated allowed values
};

// The rule for a key the project knows (upstream cilium-config keys plus
// ciliumpp's own), or nullopt for an unknown key.
std::optional<KeyRule> find_rule(const std::string& key);

// Returns an error text ("expected true or false") or nullopt if the value fits.
std::optional<std::string> check_value(const KeyRule& rule, const std::string& value);

}  // namespace cpp::config
