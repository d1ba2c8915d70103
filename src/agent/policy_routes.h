#pragma once
#include <optional>

#include "agent/policy_subsystem.h"
#include "api/unix_http.h"

namespace cpp::agent {

// /v1/policy, /v1/policy/trace and /v1/identity; nullopt for other paths.
std::optional<api::HttpResponse> handle_policy_routes(PolicySubsystem& policy, const api::HttpRequest& req);

}  // namespace cpp::agent
