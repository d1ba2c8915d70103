#pragma once
// Strict JSON reading helpers for the policy parser: every failure is a
// PolicyError carrying the field path. Internal to cpp_policy.
#include <nlohmann/json.hpp>

#include <initializer_list>
#include <string>

#include "policy/types.h"

namespace cpp::policy {

// "string", "number", "boolean", "list", "mapping", "null".
std::string type_name(const nlohmann::json& j);

void expect_object(const nlohmann::json& j, const std::string& path);
void expect_array(const nlohmann::json& j, const std::string& path);

// Rejects fields not in `allowed` ("unknown field", with a suggestion for near misses).
void check_fields(const nlohmann::json& obj, const std::string& path, std::initializer_list<const char*> allowed);

// The member, or nullptr when absent or null.
const nlohmann::json* field(const nlohmann::json& obj, const char* name);

std::string required_string(const nlohmann::json& obj, const char* name, const std::string& path);
// "" when absent.
std::string optional_string(const nlohmann::json& obj, const char* name, const std::string& path);

}  // namespace cpp::policy
