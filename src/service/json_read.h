#pragma once
// Strict readers for Kubernetes-style JSON objects. Unknown fields are
// tolerated (API objects carry many we do not use); a known field of the
// wrong type or value throws std::invalid_argument naming its path
// ("spec.ports[1].port: expected a number, got string").
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/ip.h"

namespace cpp::service::json_read {

[[noreturn]] void fail(const std::string& path, const std::string& what);

// "string", "number", "boolean", "list", "mapping", "null".
std::string type_name(const nlohmann::json& j);

// The member, or nullptr when absent or null. Throws when obj is not a mapping.
const nlohmann::json* member(const nlohmann::json& obj, const char* name, const std::string& path);

void expect_object(const nlohmann::json& j, const std::string& path);
void expect_array(const nlohmann::json& j, const std::string& path);

std::string get_string(const nlohmann::json& j, const std::string& path);
std::optional<std::string> opt_string(const nlohmann::json& obj, const char* name, const std::string& path);
std::optional<bool> opt_bool(const nlohmann::json& obj, const char* name, const std::string& path);
std::optional<int64_t> opt_int(const nlohmann::json& obj, const char* name, const std::string& path);
// A {string: string} mapping; empty when absent.
std::map<std::string, std::string> string_map(const nlohmann::json& obj, const char* name, const std::string& path);

IpAddr get_ip(const nlohmann::json& j, const std::string& path);

// A port number 1..65535.
uint16_t port_number(int64_t v, const std::string& path);

}  // namespace cpp::service::json_read
