#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "api/unix_http.h"

namespace cpp::agent {

// The agent API's response shapes: a JSON body, or {"error": message}.
inline api::HttpResponse ok(const nlohmann::json& j, int status = 200) { return {status, j.dump()}; }
inline api::HttpResponse error(int status, const std::string& msg) {
  return {status, nlohmann::json{{"error", msg}}.dump()};
}

}  // namespace cpp::agent
