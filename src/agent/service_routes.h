#pragma once
#include <optional>

#include "agent/service_subsystem.h"
#include "api/unix_http.h"

namespace cpp::agent {

// /v1/service and /v1/service/{id} (upstream's paths and ServiceSpec
// shape); nullopt for other paths. `services` is null when kube-proxy
// replacement is off: the paths then answer 501.
std::optional<api::HttpResponse> handle_service_routes(ServiceSubsystem* services, const api::HttpRequest& req);

}  // namespace cpp::agent
